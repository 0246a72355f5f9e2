// Pure helpers for the listings API: validation, request parsing and API Gateway responses.
// Nothing in this module talks to AWS, so it can be unit-tested directly.

export const MAX_TITLE_LENGTH = 120;
export const MAX_DESCRIPTION_LENGTH = 2000;

const BASE_HEADERS = Object.freeze({
  "content-type": "application/json; charset=utf-8",
  "access-control-allow-origin": "*",
});

/** Builds an API Gateway (REST, proxy integration) response with a JSON body. */
export function jsonResponse(statusCode, body, extraHeaders = {}) {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, ...extraHeaders },
    body: JSON.stringify(body),
  };
}

/** Builds a JSON error response: { "error": message, "details"?: [...] }. */
export function errorResponse(statusCode, message, details) {
  const body = details && details.length > 0 ? { error: message, details } : { error: message };
  return jsonResponse(statusCode, body);
}

export const ok = (body) => jsonResponse(200, body);
export const created = (body, location) =>
  jsonResponse(201, body, location ? { location } : undefined);
export const badRequest = (message, details) => errorResponse(400, message, details);
export const notFound = (message = "Not found") => errorResponse(404, message);
export const methodNotAllowed = (allowed) =>
  jsonResponse(405, { error: "Method not allowed" }, { allow: allowed.join(", ") });
export const serverError = () => errorResponse(500, "Internal server error");

/**
 * Parses the request body of an API Gateway event as JSON.
 * Returns { ok: true, value } or { ok: false, error }.
 */
export function parseJsonBody(event) {
  const raw = event?.body;
  if (raw === undefined || raw === null || raw === "") {
    return { ok: false, error: "Request body is required" };
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: "Request body is not valid JSON" };
  }
}

const isNonEmptyString = (v) => typeof v === "string" && v.trim().length > 0;
const isNonNegativeInteger = (v) => Number.isInteger(v) && v >= 0;

/**
 * Validates a listing payload.
 * Required: title (string, <= 120 chars), price (number > 0), city (string).
 * Optional: address, description (strings), beds, baths (integers >= 0), areaSqft (number > 0).
 * Returns { valid: true, value } with a normalised listing (without id), or { valid: false, errors }.
 */
export function validateListing(input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { valid: false, errors: ["Listing must be a JSON object"] };
  }
  const errors = [];
  const { title, price, city, address, description, beds, baths, areaSqft } = input;

  if (!isNonEmptyString(title)) errors.push("title is required");
  else if (title.trim().length > MAX_TITLE_LENGTH)
    errors.push(`title must be at most ${MAX_TITLE_LENGTH} characters`);

  if (typeof price !== "number" || !Number.isFinite(price) || price <= 0)
    errors.push("price must be a number greater than 0");

  if (!isNonEmptyString(city)) errors.push("city is required");

  if (address !== undefined && typeof address !== "string") errors.push("address must be a string");
  if (description !== undefined) {
    if (typeof description !== "string") errors.push("description must be a string");
    else if (description.length > MAX_DESCRIPTION_LENGTH)
      errors.push(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  if (beds !== undefined && !isNonNegativeInteger(beds))
    errors.push("beds must be a whole number >= 0");
  if (baths !== undefined && !isNonNegativeInteger(baths))
    errors.push("baths must be a whole number >= 0");
  if (
    areaSqft !== undefined &&
    (typeof areaSqft !== "number" || !Number.isFinite(areaSqft) || areaSqft <= 0)
  )
    errors.push("areaSqft must be a number greater than 0");

  if (errors.length > 0) return { valid: false, errors };

  const value = { title: title.trim(), price, city: city.trim() };
  if (address !== undefined) value.address = address.trim();
  if (description !== undefined) value.description = description;
  if (beds !== undefined) value.beds = beds;
  if (baths !== undefined) value.baths = baths;
  if (areaSqft !== undefined) value.areaSqft = areaSqft;
  return { valid: true, value };
}

/** S3 key of the "listing card" JSON object for a listing. */
export const cardKey = (id) => `listings/${id}.json`;

/** The small JSON document stored in S3 next to each listing (what a card/preview needs). */
export function buildListingCard(listing) {
  return {
    id: listing.id,
    title: listing.title,
    city: listing.city,
    price: listing.price,
    createdAt: listing.createdAt,
    ...(listing.beds !== undefined ? { beds: listing.beds } : {}),
    ...(listing.baths !== undefined ? { baths: listing.baths } : {}),
  };
}

/** Extracts the listing id from the event (path parameter {id}); null when absent. */
export function listingIdFrom(event) {
  const id = event?.pathParameters?.id;
  return typeof id === "string" && id.length > 0 ? decodeURIComponent(id) : null;
}

/** Case-insensitive city filter from the ?city= query string parameter; null when absent. */
export function cityFilterFrom(event) {
  const city = event?.queryStringParameters?.city;
  return typeof city === "string" && city.trim() !== "" ? city.trim().toLowerCase() : null;
}
