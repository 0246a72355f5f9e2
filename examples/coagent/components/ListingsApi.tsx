"use client";

import { useEffect, useState } from "react";
import { apiUrl, getApiBaseUrl, loadRuntimeConfig, type RuntimeConfig } from "@/lib/config";

export interface ListingsApiProps {
  /** Where the runtime config comes from (the deployed config.json by default). */
  load?: () => Promise<RuntimeConfig>;
}

/**
 * Says which listings API the site talks to: the environment's config.json once it is read,
 * the build's NEXT_PUBLIC_API_URL until then (or when there is none).
 */
export default function ListingsApi({ load = loadRuntimeConfig }: ListingsApiProps) {
  const [endpoint, setEndpoint] = useState<string | null>(() => apiUrl("/listings"));
  useEffect(() => {
    let live = true;
    void load().then((config) => {
      const base = getApiBaseUrl(config.apiUrl ?? "");
      if (live && base) setEndpoint(apiUrl("/listings", base));
    });
    return () => {
      live = false;
    };
  }, [load]);
  return endpoint ? (
    <p>
      This site talks to the listings API at <code>{endpoint}</code>.
    </p>
  ) : (
    <p>No listings API is configured for this site, so the bundled sample listings are shown.</p>
  );
}
