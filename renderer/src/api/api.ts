// The one ApiClient the stores use. Set once at start-up (main.ts) or by a test; stores call api().
import type { ApiClient } from '@shared/contract/client';

let current: ApiClient | null = null;

export function setApi(client: ApiClient): void {
  current = client;
}

export function api(): ApiClient {
  if (!current) throw new Error('the API client is not set (main.ts calls setApi before mounting)');
  return current;
}

/** A readable message for any thrown value (ApiError carries code + message). */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const code = 'code' in e && typeof e.code === 'string' ? `[${e.code}] ` : '';
    return `${code}${String(e.message)}`;
  }
  return String(e);
}
