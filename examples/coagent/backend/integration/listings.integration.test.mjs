/** @jest-environment node */
// Runs the real handler against DynamoDB and S3 at AWS_ENDPOINT_URL (e.g. a local moto_server).
// The test creates its own table and bucket with unique names and removes them afterwards.
import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";

const endpoint = process.env.AWS_ENDPOINT_URL;
process.env.AWS_ACCESS_KEY_ID ??= "testing";
process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
process.env.AWS_REGION ??= process.env.AWS_DEFAULT_REGION ?? "us-east-1";

const suffix = randomUUID().slice(0, 8);
const tableName = `coagent-it-listings-${suffix}`;
const bucketName = `coagent-it-listings-${suffix}`;

let ddb;
let s3;
let handler;

beforeAll(async () => {
  if (!endpoint) {
    throw new Error(
      "AWS_ENDPOINT_URL is not set: integration tests only run against a local endpoint such as moto_server",
    );
  }
  ddb = new DynamoDBClient({});
  s3 = new S3Client({ forcePathStyle: true });

  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    }),
  );
  await waitUntilTableExists({ client: ddb, maxWaitTime: 30 }, { TableName: tableName });
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));

  process.env.TABLE_NAME = tableName;
  process.env.BUCKET_NAME = bucketName;
  // Import after the environment is set up; the handler creates its SDK clients lazily anyway.
  ({ handler } = await import("../src/handler.mjs"));
});

afterAll(async () => {
  if (!endpoint || !s3) return;
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
  for (const object of listed.Contents ?? []) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucketName, Key: object.Key }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucketName }));
  await ddb.send(new DeleteTableCommand({ TableName: tableName }));
  ddb.destroy();
  s3.destroy();
});

const parse = (res) => JSON.parse(res.body);

describe("listings API against DynamoDB and S3", () => {
  let createdListing;

  it("creates a listing (DynamoDB item + S3 listing card)", async () => {
    const res = await handler({
      httpMethod: "POST",
      path: "/listings",
      body: JSON.stringify({
        title: "Integration test cottage",
        price: 412000,
        city: "Portland",
        beds: 2,
        baths: 1,
      }),
    });
    expect(res.statusCode).toBe(201);
    createdListing = parse(res);
    expect(createdListing.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(createdListing).toMatchObject({ title: "Integration test cottage", price: 412000 });

    const key = `listings/${createdListing.id}.json`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
    expect(head.ContentType).toBe("application/json");
    const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    const card = JSON.parse(await object.Body.transformToString());
    expect(card).toEqual({
      id: createdListing.id,
      title: "Integration test cottage",
      city: "Portland",
      price: 412000,
      beds: 2,
      baths: 1,
      createdAt: createdListing.createdAt,
    });
  });

  it("gets the listing by id", async () => {
    const res = await handler({ httpMethod: "GET", pathParameters: { id: createdListing.id } });
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toEqual(createdListing);
  });

  it("lists listings and filters by city", async () => {
    const second = await handler({
      httpMethod: "POST",
      body: JSON.stringify({ title: "Second home", price: 250000, city: "Denver" }),
    });
    expect(second.statusCode).toBe(201);

    const all = parse(await handler({ httpMethod: "GET", path: "/listings" }));
    expect(all.count).toBe(2);
    expect(all.items.map((i) => i.id)).toEqual(
      expect.arrayContaining([createdListing.id, parse(second).id]),
    );

    const portland = parse(
      await handler({ httpMethod: "GET", queryStringParameters: { city: "portland" } }),
    );
    expect(portland.items.map((i) => i.id)).toEqual([createdListing.id]);
  });

  it("returns 404 for an unknown id and 400 for an invalid listing", async () => {
    const missing = await handler({ httpMethod: "GET", pathParameters: { id: randomUUID() } });
    expect(missing.statusCode).toBe(404);
    const invalid = await handler({
      httpMethod: "POST",
      body: JSON.stringify({ title: "No price" }),
    });
    expect(invalid.statusCode).toBe(400);
  });
});
