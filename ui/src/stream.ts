/**
 * Shows streamed model output as plain text. Tokens are buffered and written
 * once per animation frame, so a fast model cannot flood the layout engine;
 * the text is always assigned as a text node (model output is untrusted).
 */
export class StreamView {
  private text = "";
  private pending = false;
  private readonly node: Text;

  constructor(private readonly target: HTMLElement) {
    this.node = document.createTextNode("");
    target.appendChild(this.node);
  }

  push(chunk: string): void {
    this.text += chunk;
    if (this.pending) return;
    this.pending = true;
    const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (f: () => void) => setTimeout(f, 16);
    raf(() => this.flush());
  }

  /** Write everything received so far. */
  flush(): void {
    this.pending = false;
    if (this.node.data !== this.text) {
      this.node.data = this.text;
      this.target.scrollTop = this.target.scrollHeight;
    }
  }

  clear(): void {
    this.text = "";
    this.flush();
  }

  get value(): string {
    return this.text;
  }
}
