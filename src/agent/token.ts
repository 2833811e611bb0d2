// The shared secret agents present to the controller: from an environment variable or a file,
// never from the command line (visible in `ps`) and never printed.

import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const DEFAULT_TOKEN_ENV = 'IVTFARM_AGENT_TOKEN';

export class TokenError extends Error {
  override name = 'TokenError';
}

/** Reads the token; throws a TokenError that names where it looked (never the value). */
export function readAgentToken(source: { tokenEnv?: string; tokenFile?: string }): string {
  let token: string | undefined;
  if (source.tokenFile) {
    try {
      token = readFileSync(source.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new TokenError(
        `cannot read agent token file ${source.tokenFile}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
    if (!token) throw new TokenError(`agent token file ${source.tokenFile} is empty`);
    return token;
  }
  const name = source.tokenEnv ?? DEFAULT_TOKEN_ENV;
  token = process.env[name]?.trim();
  if (!token)
    throw new TokenError(
      `no agent token: set ${name} (or use --token-env NAME / --token-file FILE); controller and agents share it`,
    );
  return token;
}

/** Constant-time comparison of a presented `Authorization: Bearer …` header with the token. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
