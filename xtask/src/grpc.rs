//! A gRPC client for any method of a proto file, with messages as JSON: the
//! e2e harness talks to the split and merged deployments the same way, over
//! real tonic and HTTP/2.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::Channel;
use tonic::{Request, Status};

/// The methods of a set of proto files.
pub struct Api {
    pool: DescriptorPool,
}

impl Api {
    /// Compiles `files` (with their folders as include paths).
    pub fn load(files: &[impl AsRef<Path>]) -> Result<Api, String> {
        let includes: Vec<&Path> = files.iter().filter_map(|f| f.as_ref().parent()).collect();
        let mut compiler = protox::Compiler::new(includes).map_err(|e| e.to_string())?;
        for file in files {
            let name = file.as_ref().file_name().ok_or("no file name")?;
            compiler.open_file(name).map_err(|e| e.to_string())?;
        }
        Ok(Api {
            pool: compiler.descriptor_pool(),
        })
    }

    /// `package.Service/Method`.
    pub fn method(&self, name: &str) -> Result<MethodDescriptor, String> {
        let (service, method) = name
            .split_once('/')
            .ok_or_else(|| format!("`{name}`: expected `package.Service/Method`"))?;
        let service = self
            .pool
            .get_service_by_name(service)
            .ok_or_else(|| format!("no service `{service}`"))?;
        service
            .methods()
            .find(|m| m.name() == method)
            .ok_or_else(|| format!("no method `{name}`"))
    }
}

/// What a call answered, in a form to compare and print.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Answer {
    pub code: String,
    pub message: String,
    /// The error's details (`grpc-status-details-bin`), escaped; empty when none.
    pub details: String,
    /// The response as JSON (empty on error).
    pub body: String,
    /// Response metadata values for the keys the scenario compares.
    pub metadata: Vec<(String, String)>,
}

/// One unary call.
pub struct Call<'a> {
    pub method: &'a MethodDescriptor,
    pub request: &'a serde_json::Value,
    pub metadata: &'a [(String, String)],
    pub timeout: Option<Duration>,
    pub compare_metadata: &'a [String],
}

pub async fn unary(channel: Channel, call: Call<'_>) -> Result<Answer, String> {
    let prepared = Prepared::new(call.method, call.request, call.metadata)?;
    let mut request = prepared.request();
    if let Some(timeout) = call.timeout {
        request.set_timeout(timeout);
    }
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| format!("not ready: {e}"))?;
    let codec = DynamicCodec(call.method.output());
    let answer = match grpc.unary(request, prepared.path.clone(), codec).await {
        Ok(response) => {
            let metadata = pick(response.metadata(), call.compare_metadata);
            let body = serde_json::to_string(&response.into_inner()).map_err(|e| e.to_string())?;
            Answer {
                code: "Ok".into(),
                message: String::new(),
                details: String::new(),
                body,
                metadata,
            }
        }
        Err(status) => Answer {
            code: format!("{:?}", status.code()),
            message: status.message().to_string(),
            details: status.details().escape_ascii().to_string(),
            body: String::new(),
            metadata: pick(status.metadata(), call.compare_metadata),
        },
    };
    Ok(answer)
}

/// A unary call with its message and metadata built ahead, to send many times
/// at little cost to the caller (the benchmark times the call, not the JSON).
#[derive(Clone)]
pub(crate) struct Prepared {
    path: PathAndQuery,
    output: MessageDescriptor,
    message: DynamicMessage,
    metadata: tonic::metadata::MetadataMap,
}

impl Prepared {
    pub(crate) fn new(
        method: &MethodDescriptor,
        request: &serde_json::Value,
        metadata: &[(String, String)],
    ) -> Result<Prepared, String> {
        let message = DynamicMessage::deserialize(method.input(), request.clone())
            .map_err(|e| format!("request for `{}`: {e}", method.full_name()))?;
        let mut map = tonic::metadata::MetadataMap::new();
        for (key, value) in metadata {
            let key =
                MetadataKey::from_str(key).map_err(|e| format!("metadata key `{key}`: {e}"))?;
            let value = MetadataValue::from_str(value)
                .map_err(|e| format!("metadata value `{value}`: {e}"))?;
            map.insert(key, value);
        }
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        Ok(Prepared {
            path: PathAndQuery::from_str(&path).map_err(|e| e.to_string())?,
            output: method.output(),
            message,
            metadata: map,
        })
    }

    fn request(&self) -> Request<DynamicMessage> {
        let mut request = Request::new(self.message.clone());
        *request.metadata_mut() = self.metadata.clone();
        request
    }

    /// Sends the call on `grpc`; the status when it is not `Ok`.
    pub(crate) async fn send(&self, grpc: &mut tonic::client::Grpc<Channel>) -> Result<(), Status> {
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
        grpc.unary(
            self.request(),
            self.path.clone(),
            DynamicCodec(self.output.clone()),
        )
        .await
        .map(drop)
    }
}

fn pick(metadata: &tonic::metadata::MetadataMap, keys: &[String]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| {
            let value = metadata
                .get(k.as_str())
                .and_then(|v| v.to_str().ok())
                .unwrap_or("<absent>");
            (k.clone(), value.to_string())
        })
        .collect()
}

/// Encodes and decodes dynamic messages of one method.
struct DynamicCodec(MessageDescriptor);

struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}
