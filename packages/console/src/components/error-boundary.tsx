import { Component, type ErrorInfo, type ReactNode } from 'react';

/** A page that throws while rendering shows what happened and a way on, never a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | undefined }> {
  override state: { error: Error | undefined } = { error: undefined };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('console page failed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error === undefined) return this.props.children;
    return (
      <section role="alert">
        <h1>This page failed</h1>
        <p className="error">{this.state.error.message}</p>
        <p>
          <a href="/console/">Back to the overview</a>
        </p>
      </section>
    );
  }
}
