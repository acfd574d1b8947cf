import { type FormEvent, useEffect, useState } from 'react';
import type { Registry } from '../api.ts';
import { RegistryFields } from '../components/registry-fields.tsx';
import { ConfirmButton, CopyButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.ts';
import { CacheEntriesSection } from './cache-entries.tsx';
import { CleanupPolicySection } from './cleanup-policy.tsx';
import { PullPolicySection } from './pull-policy.tsx';
import { UpstreamsSection } from './upstreams.tsx';

type Tab = 'upstreams' | 'entries' | 'cleanup' | 'policy';
const TABS: Array<{ tab: Tab; label: string }> = [
  { tab: 'upstreams', label: 'Upstreams' },
  { tab: 'entries', label: 'Cache entries' },
  { tab: 'cleanup', label: 'Cleanup policy' },
  { tab: 'policy', label: 'Pull policy' },
];

/** One registry: its settings, pull command, and a tab each for upstreams, cache entries, cleanup and the pull policy. */
export function RegistryPage({ id, tab }: { id: string; tab: Tab }) {
  const { api } = useSession();
  const { data: registry, error, reload } = useLoad(() => api.get<Registry>(`/registries/${encodeURIComponent(id)}`), [api, id]);
  return (
    <section aria-labelledby="registry-title">
      <p className="crumbs">
        <Link to="/registries">Registries</Link> / {registry?.name ?? id}
      </p>
      <h1 id="registry-title">Registry {registry ? `“${registry.name}”` : id}</h1>
      <ErrorMessage error={error} />
      {registry ? (
        <>
          <RegistrySettings registry={registry} onChanged={() => void reload()} />
          <PullCommand registryId={registry.id} />
          <nav aria-label="Registry sections" className="tabs">
            {TABS.map((t) => (
              <Link key={t.tab} to={`/registries/${registry.id}/${t.tab}`} aria-current={tab === t.tab ? 'page' : undefined}>
                {t.label}
              </Link>
            ))}
          </nav>
          {tab === 'upstreams' ? <UpstreamsSection registryId={registry.id} /> : null}
          {tab === 'entries' ? <CacheEntriesSection registryId={registry.id} /> : null}
          {tab === 'cleanup' ? <CleanupPolicySection registryId={registry.id} /> : null}
          {tab === 'policy' ? <PullPolicySection registryId={registry.id} /> : null}
        </>
      ) : null}
    </section>
  );
}

function RegistrySettings({ registry, onChanged }: { registry: Registry; onChanged: () => void }) {
  const { api, canWrite } = useSession();
  const [name, setName] = useState(registry.name);
  const [description, setDescription] = useState(registry.description ?? '');
  const [visibility, setVisibility] = useState(registry.visibility);
  const save = useAction();
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setName(registry.name);
    setDescription(registry.description ?? '');
    setVisibility(registry.visibility);
  }, [registry]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const done = await save.run(() =>
      api.call<Registry>('PATCH', `/registries/${registry.id}`, { name, description: description === '' ? null : description, visibility }),
    );
    if (done) {
      setSaved(true);
      onChanged();
    }
  };
  if (!canWrite) {
    return (
      <p>
        {registry.description ? `${registry.description} · ` : ''}
        {registry.visibility}
      </p>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)} className="card inline" aria-label="Registry settings">
      <RegistryFields
        name={name}
        description={description}
        visibility={visibility}
        onName={setName}
        onDescription={setDescription}
        onVisibility={setVisibility}
      />
      <button type="submit" disabled={save.busy}>
        Save registry
      </button>
      <ConfirmButton
        label="Delete registry"
        confirmLabel={`Delete registry ${registry.name} and its cache`}
        disabled={remove.busy}
        onConfirm={() =>
          void remove.run(async () => {
            await api.call('DELETE', `/registries/${registry.id}`);
            navigate('/registries');
          })
        }
      />
      {saved ? <span role="status">Saved.</span> : null}
      <ErrorMessage error={save.error ?? remove.error} />
    </form>
  );
}

function PullCommand({ registryId }: { registryId: string }) {
  const [image, setImage] = useState('library/alpine:latest');
  const command = `docker pull ${window.location.host}/virtual_registries/containers/${registryId}/${image || '<image>:<tag>'}`;
  return (
    <div className="card pull">
      <label>
        Image to pull
        <input value={image} onChange={(e) => setImage(e.target.value.trim())} aria-describedby="pull-command" />
      </label>
      <code id="pull-command" aria-label="Pull command">
        {command}
      </code>
      <CopyButton text={command} label="Copy pull command" />
    </div>
  );
}
