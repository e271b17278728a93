import { getLocale, isKey, t, type Key } from "./i18n";
import type { IpcError } from "./types";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/**
 * Normalise whatever an `invoke` rejected with into an {@link IpcError}.
 * Our commands reject with `{code, message, details}`; Tauri itself rejects
 * with bare strings (unknown command, denied permission), and JS code throws
 * `Error`s.
 */
export function toIpcError(err: unknown): IpcError {
  if (isRecord(err) && typeof err.code === "string" && typeof err.message === "string") {
    return { code: err.code, message: err.message, details: err.details ?? null };
  }
  if (err instanceof Error) {
    return { code: "ui", message: err.message || err.name, details: null };
  }
  if (typeof err === "string") {
    return { code: "ipc", message: err, details: null };
  }
  let text: string;
  try {
    text = JSON.stringify(err);
  } catch {
    text = String(err);
  }
  return { code: "unknown", message: text ?? "unknown error", details: null };
}

/** True when the error is the user's own cancellation, which is not shown as a failure. */
export function isCancelled(err: IpcError): boolean {
  return err.code === "cancelled";
}

const TITLES: Record<string, Key> = {
  invalid_setting: "error.input",
  remote_status: "error.remote",
  remote_unreachable: "error.remote",
  blocked: "error.blocked",
  illegal_transition: "error.illegal",
  forbidden: "error.forbidden",
  not_found: "error.notFound",
  invalid_input: "error.input",
  invalid_catalogue: "error.file",
  bad_request: "error.input",
  unknown_profile: "error.input",
  missing_file: "error.file",
  is_directory: "error.file",
  empty_file: "error.file",
  file_too_large: "error.file",
  unsupported_format: "error.file",
  image_too_large: "error.file",
  corrupt_image: "error.file",
  io: "error.io",
  model_not_installed: "error.model",
  no_model_installed: "error.model",
  busy: "error.busy",
  no_gpu_adapter: "error.gpu",
  render: "error.render",
};

/**
 * The banner's headline for an error code, in the UI's language (the
 * message under it is the core's, in English).
 */
export function errorTitle(code: string): Key {
  return Object.prototype.hasOwnProperty.call(TITLES, code) ? (TITLES[code] as Key) : "error.generic";
}

/** What the details carry that a sentence can name (a field, an HTTP status, a URL). */
function detailVars(details: unknown): Record<string, string> {
  const vars: Record<string, string> = {};
  if (isRecord(details)) {
    for (const k of ["field", "reason", "status", "url"]) {
      const v = details[k];
      if (typeof v === "string" || typeof v === "number") vars[k] = String(v);
    }
  }
  return vars;
}

/**
 * The error's sentence in the UI's language. In English it is the core's
 * message; in Chinese a sentence for its code with the details filled in,
 * the core's message (paths, names, the offending value) kept after it.
 */
export function errorText(e: IpcError): string {
  if (getLocale() === "en") return e.message;
  const key = `errmsg.${e.code}`;
  const sentence = isKey(key) ? t(key, { message: e.message, ...detailVars(e.details) }) : t("errmsg.generic");
  return e.message ? `${sentence}（${e.message}）` : sentence;
}
