// The platform's HTTP API (`api:` in a scenario): templated actions, the auth step, the client.
//
//   const client = new ApiClient(scenario.api, { observer: new ApiMetrics(registry) });
//   await client.login();                       // preflight: a bad password fails here
//   const r = await client.call('open_live', { login_code: 'cam-1', channel: 0, quality: 'sd' });
//   r.status, r.durationMs, r.body, r.captured  // never throws for HTTP/network failures
//   await client.close();

export type { ApiAction, ApiAuth, ApiPlan, ApiRequestTemplate, ApiVars } from './actions.js';
export { AUTH_ACTION, CHANNEL_PLACEHOLDERS, placeholdersOf } from './actions.js';
export { JsonPathError, parseJsonPath } from './capture.js';
export { ApiAuthError, ApiClient, type ApiClientOptions, type ApiResult } from './client.js';
export { actionRequests, channelPlaceholdersOf } from './http-load-action.js';
export { ApiMetrics, type ApiObserver } from './metrics.js';
