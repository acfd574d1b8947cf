import { upstreamLabel } from '@vreg/telemetry';
import { z } from 'zod';
import type { CatalogAdmin } from '../domain/catalog-admin.ts';
import { type OverviewStats, OverviewWindows } from '../domain/overview-stats.ts';
import { errorResponses } from './api-schemas.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

/** Registries scanned to name the upstreams behind an error label (the console's scale, not a fleet's). */
const REGISTRIES_SCANNED = 100;

export const OverviewQuery = z.object({
  window: z
    .enum(Object.keys(OverviewWindows) as [keyof typeof OverviewWindows])
    .default('1h')
    .meta({ description: 'The last hour or the last day' }),
});

export const OverviewJson = z.object({
  window: z.string(),
  hits: z.number().meta({ description: 'Pulls answered from the cache' }),
  misses: z.number().meta({ description: 'Objects fetched from an upstream and stored' }),
  hit_ratio: z.number().meta({ description: 'hits / (hits + misses), 0..1; 0 without traffic' }),
  bytes_served_from_cache: z.number().meta({ description: 'Bytes' }),
  bytes_fetched_upstream: z.number().meta({ description: 'Bytes' }),
  top_images: z.array(z.object({ image: z.string(), downloads: z.number() })),
  upstream_errors: z.array(
    z.object({
      upstream_id: z.string().nullable().meta({ description: 'The first upstream at that address; null when none is configured any more' }),
      upstream: z.string().meta({ description: 'The upstream address (host and path) the metrics label errors with' }),
      count: z.number(),
      last_message: z.string(),
      last_at: z.string(),
    }),
  ),
  series: z
    .object({
      interval_seconds: z.number().meta({ description: "Length of each point's interval: 60 for the hour, 900 for the day" }),
      points: z.array(
        z.object({
          start: z.string().meta({ description: 'When the interval starts (ISO 8601)' }),
          hits: z.number(),
          misses: z.number(),
          hit_ratio: z.number().nullable().meta({ description: 'hits / (hits + misses), 0..1; null when the interval had no traffic' }),
          bytes_served_from_cache: z.number().meta({ description: 'Bytes' }),
          bytes_fetched_upstream: z.number().meta({ description: 'Bytes' }),
        }),
      ),
    })
    .meta({
      description:
        'The same traffic over time: 60 one-minute points for the hour, 96 fifteen-minute points for the day, oldest first; the last ends with the current minute, so the points add up to the totals',
    }),
  source: z.string().meta({ description: 'Where the numbers come from' }),
});

/** `GET /stats/overview?window=1h|24h`: the console's overview (hit ratio, bytes, top images, upstream errors). */
export const statsRoutes: AdminRoutes<{ stats: OverviewStats; admin: CatalogAdmin }> = async (app, { stats, admin }) => {
  app.get('/stats/overview', {
    config: {
      reach: RouteReaches.global,
      summary:
        'Traffic of the last hour or day as this catalog process counted it: hits, misses, hit ratio, bytes from cache and from upstreams, the same over time, top images, upstream errors the gateways and fetchers broadcast',
    },
    schema: { querystring: OverviewQuery, response: { 200: OverviewJson, ...errorResponses(400, 401, 403) } },
    handler: async (request) => {
      const overview = stats.overview(request.query.window);
      const idsByLabel = overview.upstreamErrors.length === 0 ? new Map<string, string>() : await upstreamIdsByLabel(admin);
      return {
        window: overview.window,
        hits: overview.hits,
        misses: overview.misses,
        hit_ratio: overview.hitRatio,
        bytes_served_from_cache: overview.bytesServedFromCache,
        bytes_fetched_upstream: overview.bytesFetchedUpstream,
        top_images: overview.topImages,
        upstream_errors: overview.upstreamErrors.map((e) => ({
          upstream_id: idsByLabel.get(e.upstream) ?? null,
          upstream: e.upstream,
          count: e.count,
          last_message: e.lastMessage,
          last_at: e.lastAt.toISOString(),
        })),
        series: {
          interval_seconds: overview.series.bucketMinutes * 60,
          points: overview.series.points.map((p) => ({
            start: p.start.toISOString(),
            hits: p.hits,
            misses: p.misses,
            hit_ratio: p.hitRatio ?? null,
            bytes_served_from_cache: p.bytesServedFromCache,
            bytes_fetched_upstream: p.bytesFetchedUpstream,
          })),
        },
        source:
          'catalog aggregates of entry.served and object.stored events since this process started; upstream errors broadcast by the gateways and fetchers (best effort, throttled to one message per upstream per second each)',
      };
    },
  });
};

async function upstreamIdsByLabel(admin: CatalogAdmin): Promise<Map<string, string>> {
  const byLabel = new Map<string, string>();
  const registries = await admin.listRegistries({ page: 1, perPage: REGISTRIES_SCANNED });
  for (const registry of registries.items) {
    for (const upstream of await admin.listUpstreams(registry.id)) {
      const label = upstreamLabel(upstream.url);
      if (!byLabel.has(label)) byLabel.set(label, upstream.id);
    }
  }
  return byLabel;
}
