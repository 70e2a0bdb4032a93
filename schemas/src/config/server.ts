import { z } from 'zod';

/**
 * The process part of the configuration: where the API listens, where data
 * lives, who may call it. Not part of the rules: changing it never changes a
 * read model, so it is left out of the rule version's fingerprint.
 */

export const API_SCOPES = ['ingest', 'read', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const ApiKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 characters: letters, digits, . _ -' }),
  scopes: z.array(z.enum(API_SCOPES)).min(1),
  secret: z.string().min(16, { message: 'must be at least 16 characters' }).max(512),
});
export type ApiKey = z.output<typeof ApiKeySchema>;

export const ServerSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4780),
    dataDir: z.string().min(1).default('./.sluice'),
    apiKeys: z
      .array(ApiKeySchema)
      .default([])
      .superRefine((keys, ctx) => {
        const names = new Set<string>();
        const secrets = new Set<string>();
        keys.forEach((k, i) => {
          if (names.has(k.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], input: k.name, message: `duplicate key name "${k.name}"` });
          // never echo a secret in an error
          if (secrets.has(k.secret)) ctx.addIssue({ code: 'custom', path: [i, 'secret'], input: '***', message: 'same secret as an earlier key' });
          names.add(k.name);
          secrets.add(k.secret);
        });
      }),
    batch: z
      .strictObject({
        maxEvents: z.number().int().positive().default(10_000),
        bodyLimitBytes: z.number().int().positive().default(16 * 1024 * 1024),
      })
      .prefault({}),
  })
  .prefault({});
export type ServerConfig = z.output<typeof ServerSchema>;
