import { join, sep } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

export interface DashboardOptions {
  /** the dashboard's built assets (services/dashboard/dist): index.html and content-hashed files under assets/ */
  root: string;
}

const HASHED_ASSETS = join('assets', sep);
const COMPRESSED_TWINS = ['**/*.br', '**/*.gz'];

/**
 * The web dashboard's static build at `/`. Vite names every script and style
 * by its content hash, so those are cached for a year and never revalidated;
 * index.html names the current ones and is revalidated on every load (by
 * ETag), so a rebuilt dashboard is picked up at once. Routes are registered
 * per file (no wildcard), so an unknown path still gets the API's problem 404.
 * The build writes brotli and gzip twins of its scripts and styles
 * (services/dashboard/precompress.ts): a client that accepts one gets it with
 * its Content-Encoding, any other the plain file, and every answer varies by
 * Accept-Encoding. Compressing once at build time costs no CPU per request;
 * the twins are no URLs of their own.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { root }) => {
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    cacheControl: false,
    preCompressed: true,
    globIgnore: COMPRESSED_TWINS,
    setHeaders: (reply, path) => {
      void reply.header('cache-control', path.includes(`${sep}${HASHED_ASSETS}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
