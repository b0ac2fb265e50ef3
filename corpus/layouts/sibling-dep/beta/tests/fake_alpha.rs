//! beta's contract with alpha, checked against alpha's test kit.

use shared_proto::v1::quotes_client::QuotesClient;
use shared_proto::v1::PriceRequest;

#[tokio::test]
async fn a_price_comes_back_for_the_symbol_asked() {
    let url = alpha_testkit::spawn_fixed_quotes(1234).unwrap();
    let mut quotes = QuotesClient::connect(url).await.unwrap();
    let price = quotes
        .get_price(PriceRequest {
            symbol: "ACME".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((price.symbol.as_str(), price.cents), ("ACME", 1234));
}
