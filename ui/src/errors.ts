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
