//! Test-side AWS set-up for the notification flows: SQS queues (with the real
//! `aws-sdk-sqs` client), SNS topics and subscriptions, EventBridge rules,
//! targets and PutEvents — on moto, or on ministack where CloudWatch's alarm
//! actions publish to its own SNS.
//!
//! # Decisions
//! - **SNS and EventBridge are plain HTTP requests**, not SDK clients and not
//!   a Python boto3 script. An SDK crate per service costs minutes of build on
//!   this machine for a handful of set-up calls; a Python script costs an
//!   interpreter start (boto3 import ≈ 0.5 s) per call and a second language
//!   to debug. The wire formats are small and documented: SNS is the AWS Query
//!   protocol (form-encoded `Action=...&Version=2010-03-31`, XML answers,
//!   <https://docs.aws.amazon.com/sns/latest/api/CommonParameters.html>);
//!   EventBridge is JSON 1.1 (`X-Amz-Target: AWSEvents.<Operation>`,
//!   `application/x-amz-json-1.1`,
//!   <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html>).
//! - Neither emulator checks SigV4 signatures, but both route a request by the
//!   service named in the `Authorization` header's credential scope (measured:
//!   without it moto answers a SNS `CreateTopic` or an `AWSEvents.PutRule` as
//!   S3 `ListBuckets`). So every request carries a well-formed header with a
//!   dummy signature.
//! - Failures panic with the emulator's answer: these are test preconditions,
//!   and the answer is what one needs to see.
//! - Queue policies (which real AWS needs before SNS or EventBridge may send
//!   to a queue) are left out: neither emulator enforces them.

use std::time::Duration;

use axum::http::{Request, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::aws_events::PutEvent;

/// One emulator's SNS and EventBridge APIs over HTTP. Build one per test (its
/// connection pool belongs to the test's runtime).
pub struct AwsHttp {
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl AwsHttp {
    /// Speaks to the emulator at `url` (`http://127.0.0.1:PORT`).
    pub fn new(url: &str) -> AwsHttp {
        AwsHttp { url: url.to_owned(), client: Client::builder(TokioExecutor::new()).build_http() }
    }

    /// SNS `CreateTopic`; returns the topic ARN.
    pub async fn create_topic(&self, name: &str) -> String {
        let xml = self.sns(&[("Action", "CreateTopic"), ("Name", name)]).await;
        xml_text(&xml, "TopicArn")
    }

    /// SNS `Subscribe` of an SQS queue (by ARN) to `topic_arn`; with `raw`
    /// the queue receives the bare message instead of the SNS envelope
    /// (<https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html>).
    pub async fn subscribe_queue(&self, topic_arn: &str, queue_arn: &str, raw: bool) -> String {
        let mut form =
            vec![("Action", "Subscribe"), ("TopicArn", topic_arn), ("Protocol", "sqs"), ("Endpoint", queue_arn)];
        if raw {
            form.extend([("Attributes.entry.1.key", "RawMessageDelivery"), ("Attributes.entry.1.value", "true")]);
        }
        xml_text(&self.sns(&form).await, "SubscriptionArn")
    }

    /// SNS `Publish`; returns the MessageId.
    pub async fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> String {
        let form = [("Action", "Publish"), ("TopicArn", topic_arn), ("Subject", subject), ("Message", message)];
        xml_text(&self.sns(&form).await, "MessageId")
    }

    /// EventBridge `PutRule` on the default bus; returns the rule ARN.
    pub async fn put_rule(&self, name: &str, pattern: &Value) -> String {
        let answer = self.events("PutRule", json!({ "Name": name, "EventPattern": pattern.to_string() })).await;
        answer["RuleArn"].as_str().expect("PutRule answers a RuleArn").to_owned()
    }

    /// EventBridge `PutTargets`: the whole event goes to the queue (no input
    /// transformer), as the bot expects.
    pub async fn target_queue(&self, rule: &str, queue_arn: &str) {
        let body = json!({ "Rule": rule, "Targets": [{ "Id": "opsbot", "Arn": queue_arn }] });
        let answer = self.events("PutTargets", body).await;
        assert_eq!(answer["FailedEntryCount"], 0, "PutTargets refused the queue: {answer}");
    }

    /// EventBridge `PutEvents`; returns the event ids, in order.
    pub async fn put_events(&self, events: &[PutEvent]) -> Vec<String> {
        let entries: Vec<Value> = events.iter().map(PutEvent::entry).collect();
        let answer = self.events("PutEvents", json!({ "Entries": entries })).await;
        assert_eq!(answer["FailedEntryCount"], 0, "PutEvents refused an event: {answer}");
        let ids = answer["Entries"].as_array().expect("PutEvents answers Entries");
        ids.iter().map(|e| e["EventId"].as_str().expect("each entry has an EventId").to_owned()).collect()
    }

    async fn sns(&self, form: &[(&str, &str)]) -> String {
        let mut form = form.to_vec();
        form.push(("Version", "2010-03-31"));
        let body = serde_urlencoded::to_string(&form).unwrap();
        let request = self.request("sns").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request, body, form[0].1).await
    }

    async fn events(&self, operation: &str, body: Value) -> Value {
        let request = self
            .request("events")
            .header("x-amz-target", format!("AWSEvents.{operation}"))
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.1");
        let answer = self.send(request, body.to_string(), operation).await;
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("EventBridge {operation}: {e}: {answer}"))
    }

    fn request(&self, service: &str) -> axum::http::request::Builder {
        let scope = format!("testing/20260101/us-east-1/{service}/aws4_request");
        let auth = format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0");
        Request::post(format!("{}/", self.url)).header(header::AUTHORIZATION, auth)
    }

    /// Sends; panics unless the emulator answers 200 within 10 s.
    async fn send(&self, request: axum::http::request::Builder, body: String, what: &str) -> String {
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let call = async {
            let response = self.client.request(request).await.unwrap_or_else(|e| panic!("{what}: {e}"));
            let status = response.status();
            let body = response.into_body().collect().await.unwrap_or_else(|e| panic!("{what}: {e}")).to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        };
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap_or_else(|_| panic!("{what}: {} did not answer within 10 s", self.url));
        assert_eq!(status, 200, "{what} at {}: {body}", self.url);
        body
    }
}

/// The text of the first `<tag>` element of a Query API answer.
fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}")) + open.len();
    let end = xml[start..].find('<').map(|n| start + n).unwrap_or_else(|| panic!("no </{tag}> in {xml}"));
    xml[start..end].to_owned()
}

// ------------------------------------------------------------------- SQS

/// A queue made for one test.
pub struct Queue {
    pub url: String,
    pub arn: String,
}

/// Creates `name` with the given visibility timeout (whole seconds; SQS's
/// unit) and returns its URL and ARN.
pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str, visibility: Duration) -> Queue {
    use aws_sdk_sqs::types::QueueAttributeName as Attr;
    let created = sqs
        .create_queue()
        .queue_name(name)
        .attributes(Attr::VisibilityTimeout, visibility.as_secs().to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue {name}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)));
    let url = created.queue_url.expect("CreateQueue answers a QueueUrl");
    let attributes = sqs.get_queue_attributes().queue_url(&url).attribute_names(Attr::QueueArn).send().await.unwrap();
    let arn = attributes.attributes().and_then(|a| a.get(&Attr::QueueArn)).expect("the queue has an ARN").clone();
    Queue { url, arn }
}

/// Messages in the queue: (visible, in flight — received but neither
/// deleted nor back to visible).
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    use aws_sdk_sqs::types::QueueAttributeName as Attr;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Attr::ApproximateNumberOfMessages)
        .attribute_names(Attr::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let count = |name: &Attr| -> u64 {
        out.attributes().and_then(|a| a.get(name)).and_then(|n| n.parse().ok()).expect("a message count")
    };
    (count(&Attr::ApproximateNumberOfMessages), count(&Attr::ApproximateNumberOfMessagesNotVisible))
}

/// A CloudWatch alarm in ministack (whose alarm actions really publish)
/// with its ALARM and OK actions on an SNS topic a fresh queue is
/// subscribed to (SNS envelope, not raw) — the path a real alarm takes to
/// the bot. Everything here talks to ministack; its account is `000000000000`.
pub struct MinistackAlarm {
    pub alarm: String,
    pub topic: String,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SQS on ministack.
    pub sqs: aws_sdk_sqs::Client,
    pub queue: Queue,
}

impl MinistackAlarm {
    /// A new alarm named after `prefix` on "5xx over 5 a minute", its queue hiding received messages for `visibility`.
    pub async fn new(prefix: &str, visibility: Duration) -> MinistackAlarm {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
        let emu = super::emulators::emulators().await;
        let sdk = emu.sdk_config().await; // CloudWatch goes to ministack already
        let sqs = aws_sdk_sqs::config::Builder::from(&sdk).endpoint_url(emu.ministack_url()).build();
        let sqs = aws_sdk_sqs::Client::from_conf(sqs);
        let ministack = AwsHttp::new(emu.ministack_url());
        let queue = create_queue(&sqs, &super::emulators::unique(&format!("{prefix}-queue")), visibility).await;
        let topic = ministack.create_topic(&super::emulators::unique("oncall")).await;
        ministack.subscribe_queue(&topic, &queue.arn, false).await;
        let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
        let alarm = super::emulators::unique(prefix);
        cloudwatch
            .put_metric_alarm()
            .alarm_name(&alarm)
            .alarm_description("Checkout answers 5xx")
            .namespace("AWS/ApplicationELB")
            .metric_name("HTTPCode_Target_5XX_Count")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .alarm_actions(&topic)
            .ok_actions(&topic)
            .send()
            .await
            .unwrap();
        MinistackAlarm { alarm, topic, cloudwatch, sqs, queue }
    }

    /// `SetAlarmState`: the alarm moves, and its action publishes.
    pub async fn set(&self, state: aws_sdk_cloudwatch::types::StateValue, reason: &str) {
        let set = self.cloudwatch.set_alarm_state().alarm_name(&self.alarm).state_value(state).state_reason(reason);
        set.send().await.unwrap();
    }
}
