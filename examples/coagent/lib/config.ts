/**
 * Base URL of the CoAgent listings API (the API Gateway stage URL from the SAM stack).
 * It comes from NEXT_PUBLIC_API_URL at build time and is optional: without it the site
 * shows the bundled sample listings only.
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
