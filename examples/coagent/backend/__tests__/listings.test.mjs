/** @jest-environment node */
import {
  badRequest,
  buildListingCard,
  cardKey,
  cityFilterFrom,
  created,
  errorResponse,
  jsonResponse,
  listingIdFrom,
  MAX_DESCRIPTION_LENGTH,
  MAX_TITLE_LENGTH,
  methodNotAllowed,
  notFound,
  parseJsonBody,
  validateListing,
} from "../src/listings.mjs";

describe("response builders", () => {
  it("builds a JSON proxy response", () => {
    expect(jsonResponse(200, { a: 1 })).toEqual({
      statusCode: 200,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "access-control-allow-origin": "*",
      },
      body: '{"a":1}',
    });
  });

  it("adds error details only when present", () => {
    expect(JSON.parse(errorResponse(400, "bad").body)).toEqual({ error: "bad" });
    expect(JSON.parse(errorResponse(400, "bad", []).body)).toEqual({ error: "bad" });
    expect(JSON.parse(badRequest("bad", ["x"]).body)).toEqual({ error: "bad", details: ["x"] });
  });

  it("builds 201, 404 and 405 responses", () => {
    const res = created({ id: "1" }, "/listings/1");
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe("/listings/1");
    expect(created({ id: "1" }).headers.location).toBeUndefined();
    expect(notFound().statusCode).toBe(404);
    expect(JSON.parse(notFound().body)).toEqual({ error: "Not found" });
    const notAllowed = methodNotAllowed(["GET", "POST"]);
    expect(notAllowed.statusCode).toBe(405);
    expect(notAllowed.headers.allow).toBe("GET, POST");
  });
});

describe("parseJsonBody", () => {
  it("parses plain and base64 bodies", () => {
    expect(parseJsonBody({ body: '{"a":1}' })).toEqual({ ok: true, value: { a: 1 } });
    const encoded = Buffer.from('{"b":2}').toString("base64");
    expect(parseJsonBody({ body: encoded, isBase64Encoded: true })).toEqual({
      ok: true,
      value: { b: 2 },
    });
  });

  it("rejects a missing or malformed body", () => {
    expect(parseJsonBody({})).toEqual({ ok: false, error: "Request body is required" });
    expect(parseJsonBody(undefined).ok).toBe(false);
    expect(parseJsonBody({ body: "{nope" })).toEqual({
      ok: false,
      error: "Request body is not valid JSON",
    });
  });
});

describe("validateListing", () => {
  const valid = { title: "  Cosy cottage ", price: 325000, city: " Austin " };

  it("accepts and normalises a minimal listing", () => {
    expect(validateListing(valid)).toEqual({
      valid: true,
      value: { title: "Cosy cottage", price: 325000, city: "Austin" },
    });
  });

  it("keeps the optional fields", () => {
    const result = validateListing({
      ...valid,
      address: " 1 Main St ",
      description: "Lovely",
      beds: 2,
      baths: 1,
      areaSqft: 900,
      ignored: "field",
    });
    expect(result.value).toEqual({
      title: "Cosy cottage",
      price: 325000,
      city: "Austin",
      address: "1 Main St",
      description: "Lovely",
      beds: 2,
      baths: 1,
      areaSqft: 900,
    });
  });

  it.each([null, "text", [1, 2], 42])("rejects a non-object payload %p", (payload) => {
    expect(validateListing(payload)).toEqual({
      valid: false,
      errors: ["Listing must be a JSON object"],
    });
  });

  it("reports every missing required field", () => {
    expect(validateListing({}).errors).toEqual([
      "title is required",
      "price must be a number greater than 0",
      "city is required",
    ]);
  });

  it.each([
    [{ price: 0 }, "price must be a number greater than 0"],
    [{ price: "100" }, "price must be a number greater than 0"],
    [{ price: Infinity }, "price must be a number greater than 0"],
    [{ title: "x".repeat(MAX_TITLE_LENGTH + 1) }, `title must be at most ${MAX_TITLE_LENGTH}`],
    [{ city: "   " }, "city is required"],
    [{ address: 5 }, "address must be a string"],
    [{ description: 5 }, "description must be a string"],
    [{ description: "x".repeat(MAX_DESCRIPTION_LENGTH + 1) }, "description must be at most"],
    [{ beds: 1.5 }, "beds must be a whole number"],
    [{ baths: -1 }, "baths must be a whole number"],
    [{ areaSqft: 0 }, "areaSqft must be a number greater than 0"],
  ])("rejects %j", (override, message) => {
    const result = validateListing({ ...valid, ...override });
    expect(result.valid).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(message);
  });
});

describe("listing card and event helpers", () => {
  it("builds the S3 key and card", () => {
    expect(cardKey("abc")).toBe("listings/abc.json");
    const listing = {
      id: "abc",
      title: "T",
      city: "C",
      price: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      description: "not on the card",
    };
    expect(buildListingCard(listing)).toEqual({
      id: "abc",
      title: "T",
      city: "C",
      price: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    expect(buildListingCard({ ...listing, beds: 2, baths: 1 })).toMatchObject({
      beds: 2,
      baths: 1,
    });
  });

  it("reads the id path parameter", () => {
    expect(listingIdFrom({ pathParameters: { id: "a%20b" } })).toBe("a b");
    expect(listingIdFrom({ pathParameters: { id: "" } })).toBeNull();
    expect(listingIdFrom({ pathParameters: null })).toBeNull();
    expect(listingIdFrom(undefined)).toBeNull();
  });

  it("reads the city query parameter", () => {
    expect(cityFilterFrom({ queryStringParameters: { city: " Denver " } })).toBe("denver");
    expect(cityFilterFrom({ queryStringParameters: { city: " " } })).toBeNull();
    expect(cityFilterFrom({ queryStringParameters: null })).toBeNull();
  });
});
