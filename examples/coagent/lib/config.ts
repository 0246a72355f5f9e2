/**
 * Base URL of the CoAgent listings API (the API Gateway stage URL from the SAM stack).
 *
 * One build serves every environment: the deploy writes `config.json` beside the static site
 * (`{"apiUrl": ..., "release": ...}`, from the stack's outputs) and the site reads it at start
 * (`loadRuntimeConfig`). NEXT_PUBLIC_API_URL, baked in at build time, is the fallback for local
 * development. Without either, the site shows the bundled sample listings only.
 */
export function getApiBaseUrl(
  value: string | undefined = process.env.NEXT_PUBLIC_API_URL,
): string | null {
  const trimmed = value?.trim();
  if (!trimmed) return null;
  return trimmed.replace(/\/+$/, "");
}

/** Joins the API base URL and a path, e.g. apiUrl("/listings"). Returns null when no API is configured. */
export function apiUrl(path: string, base: string | null = getApiBaseUrl()): string | null {
  if (!base) return null;
  return `${base}/${path.replace(/^\/+/, "")}`;
}

/** What the deploy writes into config.json: the keys of pipeline.yaml's runtime_config, and the release. */
export interface RuntimeConfig {
  apiUrl?: string;
  release?: string;
}

/** Reads /config.json; an absent, unreachable or malformed file means no runtime config ({}). */
export async function loadRuntimeConfig(
  fetcher: typeof fetch | undefined = globalThis.fetch,
): Promise<RuntimeConfig> {
  try {
    if (!fetcher) return {};
    const answer = await fetcher("/config.json", { cache: "no-store" });
    if (!answer.ok) return {};
    const data: unknown = await answer.json();
    if (typeof data !== "object" || data === null || Array.isArray(data)) return {};
    const { apiUrl: url, release } = data as Record<string, unknown>;
    return {
      ...(typeof url === "string" ? { apiUrl: url } : {}),
      ...(typeof release === "string" ? { release } : {}),
    };
  } catch {
    return {};
  }
}
