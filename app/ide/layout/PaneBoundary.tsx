"use client";
/** One error boundary per pane: a crash in one view shows its error there and nothing else blanks. */
import { Component, type ReactNode } from "react";

interface Props {
  name: string;
  children: ReactNode;
  /** Changing this value clears a shown error (e.g. new input arrived). */
  resetKey?: unknown;
}

interface State {
  error: Error | null;
  key: unknown;
}

export class PaneBoundary extends Component<Props, State> {
  override state: State = { error: null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.key) return { error: null, key: props.resetKey };
    return null;
  }

  override componentDidCatch(error: Error): void {
    console.warn(`[${this.props.name}] pane error:`, error);
  }

  override render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="pane">
          <div className="pane-head">
            <span className="pane-title">{this.props.name}</span>
          </div>
          <div className="pane-error">
            This pane hit an error and stopped: {this.state.error.message}
            {"\n"}The rest of the page keeps working.{" "}
            <button className="btn" onClick={() => this.setState({ error: null })}>
              Retry
            </button>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}
