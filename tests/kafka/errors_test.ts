import assert from "node:assert/strict";
import { describeKafkaError, kafkaFailure } from "../../src/kafka/errors.ts";
import { ServiceError } from "../../src/errors.ts";

Deno.test("describeKafkaError() names a refused password under every broker tried and every retry", () => {
  const refused = Object.assign(new Error("SASL authentication failed."), {
    code: "PLT_KFK_AUTHENTICATION",
  });
  const broker = new Error("Connection to kafka:9093 failed.", { cause: refused });
  const attempt = () => new AggregateError([broker], "Cannot connect to any broker.");
  assert.equal(
    describeKafkaError(new AggregateError([attempt(), attempt()], "Listing topics failed.")),
    "Listing topics failed: Connection to kafka:9093 failed: SASL authentication failed",
  );
});

Deno.test("kafkaFailure() says what failed down to the cause, and leaves a ServiceError as it is", () => {
  const error = new Error("Listing topics failed.", {
    cause: new Error("Group authorization failed"),
  });
  const failure = kafkaFailure(error);
  assert.ok(failure instanceof ServiceError);
  assert.equal(failure.message, "Kafka failed: Listing topics failed: Group authorization failed");
  assert.equal(kafkaFailure(failure), failure);
});
