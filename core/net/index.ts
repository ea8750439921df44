/** SSRF-safe URL checks and fetching, shared by the worker, store-file, webhooks and submit. */
export { classifyAddress, isPublicAddress, parseIp, type AddressVerdict } from './address.ts';
export { assertPublicUrl, checkUrl, describeHost, type UrlCheck, type UrlPolicyOptions } from './policy.ts';
export {
  safeFetch,
  safeFetchToFile,
  SafeFetchError,
  type FetchToFileResult,
  type SafeFetchErrorKind,
  type SafeFetchInit,
  type SafeFetchOptions,
  type SafeFetchReason,
  type SafeFetchResponse,
} from './fetch.ts';
