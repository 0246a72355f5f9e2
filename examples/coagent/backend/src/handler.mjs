// CoAgent listings API: one Lambda function behind an API Gateway REST API (proxy integration).
//   GET  /listings        -> list (DynamoDB Scan, optional ?city=)
//   POST /listings        -> create (DynamoDB PutItem + listing card JSON in S3)
//   GET  /listings/{id}   -> get by id (404 when missing)
// Configuration comes from the environment: TABLE_NAME, BUCKET_NAME, and (for local testing)
// AWS_ENDPOINT_URL, which the AWS SDK v3 honours on its own.
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  badRequest,
  buildListingCard,
  cardKey,
  cityFilterFrom,
  created,
  listingIdFrom,
  methodNotAllowed,
  notFound,
  ok,
  parseJsonBody,
  serverError,
  validateListing,
} from "./listings.mjs";

let clients;

/**
 * Creates the SDK clients on first use, so that tests (and the Lambda runtime) can set the
 * environment before anything reads it. Path-style S3 addressing is used whenever a custom
 * endpoint is configured (moto, LocalStack), since bucket sub-domains do not resolve there.
 */
export function getClients() {
  if (!clients) {
    const customEndpoint = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
    clients = {
      ddb: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      s3: new S3Client({ forcePathStyle: customEndpoint }),
    };
  }
  return clients;
}

/** Forgets the cached clients (used by tests that change the environment). */
export function resetClients() {
  clients = undefined;
}

function requireEnv(env, name) {
  const value = env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

async function listListings({ ddb, tableName }, event) {
  const items = [];
  let ExclusiveStartKey;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);

  const city = cityFilterFrom(event);
  const listings = (city ? items.filter((i) => String(i.city).toLowerCase() === city) : items).sort(
    (a, b) => String(b.createdAt).localeCompare(String(a.createdAt)),
  );
  return ok({ items: listings, count: listings.length });
}

async function createListing({ ddb, s3, tableName, bucketName, newId, now }, event) {
  const parsed = parseJsonBody(event);
  if (!parsed.ok) return badRequest(parsed.error);
  const result = validateListing(parsed.value);
  if (!result.valid) return badRequest("Invalid listing", result.errors);

  const listing = { id: newId(), ...result.value, createdAt: now().toISOString() };
  await ddb.send(
    new PutCommand({
      TableName: tableName,
      Item: listing,
      ConditionExpression: "attribute_not_exists(id)",
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: bucketName,
      Key: cardKey(listing.id),
      Body: JSON.stringify(buildListingCard(listing)),
      ContentType: "application/json",
    }),
  );
  return created(listing, `/listings/${encodeURIComponent(listing.id)}`);
}

async function getListing({ ddb, tableName }, id) {
  const result = await ddb.send(new GetCommand({ TableName: tableName, Key: { id } }));
  if (!result.Item) return notFound(`Listing ${id} not found`);
  return ok(result.Item);
}

/**
 * Builds a handler bound to the given dependencies. Unit tests pass fake clients here;
 * the exported `handler` uses the real SDK clients.
 */
export function createHandler(deps = {}) {
  return async function handleRequest(event) {
    const env = deps.env ?? process.env;
    const { ddb, s3 } = deps.ddb && deps.s3 ? deps : getClients();
    const ctx = {
      ddb,
      s3,
      tableName: requireEnv(env, "TABLE_NAME"),
      bucketName: requireEnv(env, "BUCKET_NAME"),
      newId: deps.newId ?? randomUUID,
      now: deps.now ?? (() => new Date()),
    };
    const method = (event?.httpMethod ?? "").toUpperCase();
    const id = listingIdFrom(event);

    try {
      if (id !== null) {
        if (method === "GET") return await getListing(ctx, id);
        return methodNotAllowed(["GET"]);
      }
      if (method === "GET") return await listListings(ctx, event);
      if (method === "POST") return await createListing(ctx, event);
      return methodNotAllowed(["GET", "POST"]);
    } catch (err) {
      (deps.logger ?? console).error("listings handler failed", err);
      return serverError();
    }
  };
}

export const handler = createHandler();
