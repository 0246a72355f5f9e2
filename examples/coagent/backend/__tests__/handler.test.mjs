/** @jest-environment node */
import { GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createHandler, getClients, handler, resetClients } from "../src/handler.mjs";

/** An in-memory stand-in for the DynamoDB document client (only the commands the handler uses). */
function fakeDynamo(initial = [], { pageSize = 2 } = {}) {
  const items = new Map(initial.map((i) => [i.id, i]));
  const send = jest.fn(async (command) => {
    const input = command.input;
    if (command instanceof ScanCommand) {
      const all = [...items.values()];
      const start = input.ExclusiveStartKey
        ? all.findIndex((i) => i.id === input.ExclusiveStartKey.id) + 1
        : 0;
      const page = all.slice(start, start + pageSize);
      const more = start + pageSize < all.length;
      return { Items: page, ...(more ? { LastEvaluatedKey: { id: page.at(-1).id } } : {}) };
    }
    if (command instanceof PutCommand) {
      items.set(input.Item.id, input.Item);
      return {};
    }
    if (command instanceof GetCommand) {
      return { Item: items.get(input.Key.id) };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  });
  return { send, items };
}

function fakeS3() {
  const objects = new Map();
  const send = jest.fn(async (command) => {
    if (command instanceof PutObjectCommand) {
      objects.set(`${command.input.Bucket}/${command.input.Key}`, command.input);
      return { ETag: '"etag"' };
    }
    throw new Error(`unexpected command ${command.constructor.name}`);
  });
  return { send, objects };
}

const env = { TABLE_NAME: "listings-table", BUCKET_NAME: "listings-bucket" };
const NOW = new Date("2026-11-20T10:00:00.000Z");

function setup(initial) {
  const ddb = fakeDynamo(initial);
  const s3 = fakeS3();
  const logger = { error: jest.fn() };
  const handle = createHandler({ ddb, s3, env, newId: () => "id-1", now: () => NOW, logger });
  return { ddb, s3, logger, handle };
}

const body = (res) => JSON.parse(res.body);

describe("POST /listings", () => {
  it("stores the listing and its card, and returns 201", async () => {
    const { ddb, s3, handle } = setup();
    const res = await handle({
      httpMethod: "POST",
      path: "/listings",
      body: JSON.stringify({ title: "Loft", price: 500000, city: "Austin", beds: 2 }),
    });

    expect(res.statusCode).toBe(201);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers.location).toBe("/listings/id-1");
    const expected = {
      id: "id-1",
      title: "Loft",
      price: 500000,
      city: "Austin",
      beds: 2,
      createdAt: NOW.toISOString(),
    };
    expect(body(res)).toEqual(expected);

    const put = ddb.send.mock.calls[0][0];
    expect(put.input).toMatchObject({
      TableName: "listings-table",
      Item: expected,
      ConditionExpression: "attribute_not_exists(id)",
    });
    const card = s3.objects.get("listings-bucket/listings/id-1.json");
    expect(card.ContentType).toBe("application/json");
    expect(JSON.parse(card.Body)).toEqual({
      id: "id-1",
      title: "Loft",
      city: "Austin",
      price: 500000,
      beds: 2,
      createdAt: NOW.toISOString(),
    });
  });

  it("returns 400 for malformed JSON without touching AWS", async () => {
    const { ddb, s3, handle } = setup();
    const res = await handle({ httpMethod: "POST", body: "{" });
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({ error: "Request body is not valid JSON" });
    expect(ddb.send).not.toHaveBeenCalled();
    expect(s3.send).not.toHaveBeenCalled();
  });

  it("returns 400 with details for an invalid listing", async () => {
    const { ddb, handle } = setup();
    const res = await handle({
      httpMethod: "POST",
      body: JSON.stringify({ title: "x", price: -1 }),
    });
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({
      error: "Invalid listing",
      details: ["price must be a number greater than 0", "city is required"],
    });
    expect(ddb.send).not.toHaveBeenCalled();
  });
});

describe("GET /listings", () => {
  const stored = [
    { id: "a", title: "A", city: "Austin", price: 1, createdAt: "2026-01-01T00:00:00Z" },
    { id: "b", title: "B", city: "Denver", price: 2, createdAt: "2026-03-01T00:00:00Z" },
    { id: "c", title: "C", city: "austin", price: 3, createdAt: "2026-02-01T00:00:00Z" },
  ];

  it("scans every page and returns the newest first", async () => {
    const { ddb, handle } = setup(stored);
    const res = await handle({ httpMethod: "GET", path: "/listings" });
    expect(res.statusCode).toBe(200);
    expect(body(res).count).toBe(3);
    expect(body(res).items.map((i) => i.id)).toEqual(["b", "c", "a"]);
    expect(ddb.send).toHaveBeenCalledTimes(2);
    expect(ddb.send.mock.calls[1][0].input.ExclusiveStartKey).toEqual({ id: "b" });
  });

  it("filters by city case-insensitively", async () => {
    const { handle } = setup(stored);
    const res = await handle({ httpMethod: "get", queryStringParameters: { city: "AUSTIN" } });
    expect(body(res).items.map((i) => i.id)).toEqual(["c", "a"]);
  });

  it("returns an empty list for an empty table (Scan without Items)", async () => {
    const ddb = { send: jest.fn(async () => ({})) };
    const res = await createHandler({ ddb, s3: fakeS3(), env })({ httpMethod: "GET" });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ items: [], count: 0 });
  });
});

describe("GET /listings/{id}", () => {
  it("returns the listing", async () => {
    const { handle } = setup([{ id: "abc", title: "T", city: "C", price: 1 }]);
    const res = await handle({ httpMethod: "GET", pathParameters: { id: "abc" } });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ id: "abc", title: "T", city: "C", price: 1 });
  });

  it("returns 404 when missing", async () => {
    const { handle } = setup();
    const res = await handle({ httpMethod: "GET", pathParameters: { id: "nope" } });
    expect(res.statusCode).toBe(404);
    expect(body(res)).toEqual({ error: "Listing nope not found" });
  });
});

describe("errors and unsupported methods", () => {
  it.each([
    [{ httpMethod: "DELETE" }, "GET, POST"],
    [{ httpMethod: "PUT", pathParameters: { id: "x" } }, "GET"],
    [{}, "GET, POST"],
  ])("returns 405 for %j", async (event, allow) => {
    const { handle } = setup();
    const res = await handle(event);
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
  });

  it("returns 500 and logs when AWS fails", async () => {
    const { logger } = setup();
    const ddb = { send: jest.fn().mockRejectedValue(new Error("boom")) };
    const handle = createHandler({ ddb, s3: {}, env, logger });
    const res = await handle({ httpMethod: "GET" });
    expect(res.statusCode).toBe(500);
    expect(body(res)).toEqual({ error: "Internal server error" });
    expect(logger.error).toHaveBeenCalledWith("listings handler failed", expect.any(Error));
  });

  it("fails loudly when configuration is missing", async () => {
    const handle = createHandler({ ddb: {}, s3: {}, env: { TABLE_NAME: "t" } });
    await expect(handle({ httpMethod: "GET" })).rejects.toThrow(
      "Missing required environment variable BUCKET_NAME",
    );
  });
});

describe("SDK clients", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetClients();
  });

  it("are created lazily, once, with path-style S3 for custom endpoints", async () => {
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:1";
    resetClients();
    const first = getClients();
    expect(getClients()).toBe(first);
    expect(await first.s3.config.forcePathStyle).toBe(true);
    expect(typeof first.ddb.send).toBe("function");
  });

  it("use virtual-hosted S3 addressing on AWS", async () => {
    process.env.AWS_REGION = "us-east-1";
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_S3;
    resetClients();
    expect(await getClients().s3.config.forcePathStyle).toBe(false);
  });

  it("the exported handler reads TABLE_NAME and BUCKET_NAME from process.env", async () => {
    delete process.env.TABLE_NAME;
    process.env.AWS_REGION = "us-east-1";
    await expect(handler({ httpMethod: "GET" })).rejects.toThrow("TABLE_NAME");
  });
});
