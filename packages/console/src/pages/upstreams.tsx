import { type DragEvent, type FormEvent, useState } from 'react';
import type { Api, Upstream, UpstreamTestResult } from '../api.ts';
import { ConfirmButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { useSession } from '../session.ts';

/** A registry's ordered upstreams: add, edit, reorder (drag or buttons), test connection, delete. */
export function UpstreamsSection({ registryId }: { registryId: string }) {
  const { api, canWrite } = useSession();
  const { data, error, reload } = useLoad(() => api.get<Upstream[]>(`/registries/${registryId}/upstreams`), [api, registryId]);
  const move = useAction();
  const [dragged, setDragged] = useState<string | undefined>();
  const [announce, setAnnounce] = useState('');
  const upstreams = [...(data ?? [])].sort((a, b) => a.position - b.position);

  const moveTo = async (upstream: Upstream, position: number) => {
    const done = await move.run(() => api.call<Upstream>('PATCH', `/upstreams/${upstream.id}`, { position }));
    if (done) {
      setAnnounce(`${upstream.name} moved to position ${position + 1}`);
      await reload();
    }
  };
  const onDrop = (event: DragEvent, target: Upstream) => {
    event.preventDefault();
    const source = upstreams.find((u) => u.id === dragged);
    setDragged(undefined);
    if (source && source.id !== target.id) void moveTo(source, target.position);
  };

  return (
    <section aria-labelledby="upstreams-title">
      <h2 id="upstreams-title">Upstreams</h2>
      <p className="help">
        Asked in this order on a miss; the first that has the image wins.{canWrite ? ' Drag a row or use the arrows to reorder.' : ''}
      </p>
      <ErrorMessage error={error ?? move.error} />
      <p className="visually-hidden" role="status">
        {announce}
      </p>
      {upstreams.length === 0 && data ? <p>No upstreams yet: pulls fail until one is added.</p> : null}
      <ol className="upstreams">
        {upstreams.map((u, index) => (
          <li
            key={u.id}
            draggable={canWrite}
            onDragStart={() => setDragged(u.id)}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => onDrop(e, u)}
            className={dragged === u.id ? 'dragging' : undefined}
            aria-label={`Upstream ${u.name}`}
          >
            <UpstreamRow
              api={api}
              upstream={u}
              canWrite={canWrite}
              first={index === 0}
              last={index === upstreams.length - 1}
              onMove={(delta) => void moveTo(u, u.position + delta)}
              onChanged={() => void reload()}
            />
          </li>
        ))}
      </ol>
      {canWrite ? <AddUpstream registryId={registryId} onAdded={() => void reload()} /> : null}
    </section>
  );
}

function UpstreamRow(props: {
  api: Api;
  upstream: Upstream;
  canWrite: boolean;
  first: boolean;
  last: boolean;
  onMove: (delta: number) => void;
  onChanged: () => void;
}) {
  const { api, upstream: u, canWrite } = props;
  const [editing, setEditing] = useState(false);
  const test = useAction();
  const remove = useAction();
  const [result, setResult] = useState<UpstreamTestResult | undefined>();
  const runTest = async () => {
    setResult(undefined);
    const r = await test.run(() => api.call<UpstreamTestResult>('POST', `/upstreams/${u.id}/test`));
    if (r) setResult(r);
  };
  return (
    <div className="upstream">
      <div className="upstream-head">
        <strong>
          {u.position + 1}. {u.name}
        </strong>{' '}
        <code>{u.url}</code>
        <span className="muted">
          {' '}
          cache validity {u.cache_validity_hours} h{u.username ? ` · user ${u.username}` : ''}
          {u.has_password ? ' · password set' : ''}
        </span>
      </div>
      <div className="actions">
        {/* Testing is a POST: read-only sessions may not. */}
        {canWrite ? (
          <>
            <button type="button" onClick={() => void runTest()} disabled={test.busy} aria-label={`Test connection to ${u.name}`}>
              {test.busy ? 'Testing…' : 'Test connection'}
            </button>
            <button type="button" onClick={() => props.onMove(-1)} disabled={props.first} aria-label={`Move ${u.name} up`}>
              ↑
            </button>
            <button type="button" onClick={() => props.onMove(1)} disabled={props.last} aria-label={`Move ${u.name} down`}>
              ↓
            </button>
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              {editing ? 'Close editor' : `Edit`}
            </button>
            <ConfirmButton
              label="Delete"
              confirmLabel={`Delete upstream ${u.name} and its cache entries`}
              disabled={remove.busy}
              onConfirm={() =>
                void remove.run(async () => {
                  await api.call('DELETE', `/upstreams/${u.id}`);
                  props.onChanged();
                })
              }
            />
          </>
        ) : null}
      </div>
      {result ? <TestResult result={result} /> : null}
      <ErrorMessage error={test.error ?? remove.error} />
      {editing ? (
        <UpstreamForm
          title={`Edit ${u.name}`}
          initial={u}
          submitLabel="Save upstream"
          onSubmit={async (body) => {
            await api.call('PATCH', `/upstreams/${u.id}`, body);
            setEditing(false);
            props.onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

export function TestResult({ result }: { result: UpstreamTestResult }) {
  return (
    <p className={result.success ? 'ok' : 'error'} role="status" data-testid="test-result">
      {result.success ? 'Connection OK' : `Connection failed (${result.result})`}: {result.message}
      {result.http_status === undefined ? '' : ` · HTTP ${result.http_status}`} · {result.latency_ms} ms
    </p>
  );
}

interface UpstreamBody {
  name: string;
  url: string;
  username?: string | null;
  password?: string | null;
  cache_validity_hours: number;
}

function UpstreamForm(props: {
  title: string;
  initial?: Upstream;
  submitLabel: string;
  onSubmit: (body: UpstreamBody) => Promise<void>;
  onTest?: (body: UpstreamBody) => Promise<UpstreamTestResult>;
}) {
  const [name, setName] = useState(props.initial?.name ?? '');
  const [url, setUrl] = useState(props.initial?.url ?? 'https://');
  const [username, setUsername] = useState(props.initial?.username ?? '');
  const [password, setPassword] = useState('');
  const [validity, setValidity] = useState(String(props.initial?.cache_validity_hours ?? 24));
  const save = useAction();
  const test = useAction();
  const [result, setResult] = useState<UpstreamTestResult | undefined>();
  const body = (): UpstreamBody => ({
    name,
    url,
    cache_validity_hours: Number(validity),
    ...(username ? { username } : props.initial?.username ? { username: null } : {}),
    ...(password ? { password } : {}),
  });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await save.run(() => props.onSubmit(body()));
  };
  const idPrefix = `upstream-${props.initial?.id ?? 'new'}`;
  return (
    <form onSubmit={(e) => void submit(e)} className="card" aria-label={props.title}>
      <h3>{props.title}</h3>
      <label htmlFor={`${idPrefix}-name`}>Upstream name</label>
      <input id={`${idPrefix}-name`} value={name} onChange={(e) => setName(e.target.value)} required />
      <label htmlFor={`${idPrefix}-url`}>Upstream URL</label>
      <input id={`${idPrefix}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} required />
      <label htmlFor={`${idPrefix}-username`}>Username (optional)</label>
      <input id={`${idPrefix}-username`} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      <label htmlFor={`${idPrefix}-password`}>
        {props.initial?.has_password ? 'New password (leave empty to keep)' : 'Password (optional)'}
      </label>
      <input
        id={`${idPrefix}-password`}
        type="password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        autoComplete="new-password"
      />
      <label htmlFor={`${idPrefix}-validity`}>Cache validity (hours, 0 = never revalidate)</label>
      <input
        id={`${idPrefix}-validity`}
        type="number"
        min={0}
        max={8760}
        value={validity}
        onChange={(e) => setValidity(e.target.value)}
        required
      />
      <div className="actions">
        <button type="submit" disabled={save.busy}>
          {props.submitLabel}
        </button>
        {props.onTest ? (
          <button
            type="button"
            disabled={test.busy}
            onClick={() =>
              void test.run(async () => {
                setResult(undefined);
                setResult(await props.onTest!(body()));
              })
            }
          >
            Test before adding
          </button>
        ) : null}
      </div>
      {result ? <TestResult result={result} /> : null}
      <ErrorMessage error={save.error ?? test.error} />
    </form>
  );
}

function AddUpstream({ registryId, onAdded }: { registryId: string; onAdded: () => void }) {
  const { api } = useSession();
  const [key, setKey] = useState(0);
  return (
    <UpstreamForm
      key={key}
      title="Add an upstream"
      submitLabel="Add upstream"
      onSubmit={async (body) => {
        const { username, password, ...rest } = body;
        await api.call('POST', `/registries/${registryId}/upstreams`, {
          ...rest,
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        });
        setKey(key + 1);
        onAdded();
      }}
      onTest={(body) =>
        api.call<UpstreamTestResult>('POST', '/upstreams/test', {
          url: body.url,
          ...(body.username ? { username: body.username } : {}),
          ...(body.password ? { password: body.password } : {}),
        })
      }
    />
  );
}
