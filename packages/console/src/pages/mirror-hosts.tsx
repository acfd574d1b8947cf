import { type FormEvent, useState } from 'react';
import type { RegistryMirrorHosts } from '../api.ts';
import { CopyButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { useDraft } from '../components/use-draft.ts';
import { useSession } from '../session.ts';

/** `docker.io, ghcr.io` or `docker.io ghcr.io` → the hosts, in order, without blanks. */
function hostsOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter((h) => h !== '');
}

const hostsText = (stored: RegistryMirrorHosts | undefined): string => stored?.hosts.join(' ') ?? '';

/** containerd's hosts.toml for one mirrored host, on this vreg's root path (as `vreg mirror-config containerd` prints it). */
function hostsToml(host: string, origin: string): string {
  const server = host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
  return `# /etc/containerd/certs.d/${host}/hosts.toml\nserver = "${server}"\n\n[host."${origin}"]\n  capabilities = ["pull", "resolve"]\n`;
}

/**
 * The upstream hosts this registry mirrors: pulls at vreg's root path for
 * them (containerd's `?ns=<host>`, Docker's registry-mirrors for docker.io)
 * go to it. Writers set the whole list; a host another registry mirrors is
 * the API's 409, shown as it is. The containerd files for the hosts follow.
 */
export function MirrorHostsSection({ registryId }: { registryId: string }) {
  const { api, canWrite: writer, session } = useSession();
  // Which registry mirrors a host decides where every node's pulls go: a token restricted to registries may not set it (the API answers 403).
  const canWrite = writer && session.registry_ids === undefined;
  const { data, error, reload } = useLoad(() => api.get<RegistryMirrorHosts>(`/registries/${registryId}/mirror_hosts`), [api, registryId]);
  // The reload after a save must not overwrite what was typed before it answers.
  const { draft: text, edit: setText, sending } = useDraft(data, hostsText);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const accept = sending();
    const stored = await save.run(() =>
      api.call<RegistryMirrorHosts>('PUT', `/registries/${registryId}/mirror_hosts`, { hosts: hostsOf(text) }),
    );
    if (stored) {
      // The stored list as the API normalised it (registry-1.docker.io is docker.io), shown with "Saved".
      setSaved(accept(stored));
      await reload();
    }
  };
  const files = (data?.hosts ?? []).map((h) => hostsToml(h, window.location.origin)).join('\n');
  return (
    <section aria-labelledby="mirror-title">
      <h2 id="mirror-title">Mirror hosts</h2>
      <p className="help">
        Container runtimes that use vreg as their registry mirror keep their image names (alpine, ghcr.io/org/app): a pull at vreg's root
        path for one of these hosts goes to this registry. containerd names the host (?ns=), Docker's registry-mirrors mean docker.io. A
        host belongs to one registry.
      </p>
      <ErrorMessage error={error} />
      {data && !canWrite ? (
        <p aria-label="Mirrored hosts">{data.hosts.length === 0 ? 'This registry mirrors no host.' : data.hosts.join(', ')}</p>
      ) : null}
      {data && writer && !canWrite ? (
        <p className="notice" role="note">
          Mirror hosts decide where every node's pulls go: only a token that is not restricted to registries sets them.
        </p>
      ) : null}
      {data && canWrite ? (
        // Only once loaded: the loaded list would overwrite what was typed before it arrived.
        <form onSubmit={(e) => void submit(e)} className="card inline" aria-label="Mirror hosts">
          <label>
            Mirrored hosts
            <input
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="docker.io ghcr.io registry.k8s.io"
              aria-describedby="mirror-hosts-help"
            />
          </label>
          <span id="mirror-hosts-help" className="help">
            Separated by spaces or commas; empty for none.
          </span>
          <button type="submit" disabled={save.busy}>
            Save mirror hosts
          </button>
          {saved ? <span role="status">Saved.</span> : null}
          <ErrorMessage error={save.error} />
        </form>
      ) : null}
      {files !== '' ? (
        <div className="card">
          <p>
            containerd (config_path = "/etc/containerd/certs.d"); <code>vreg mirror-config containerd</code> prints these for every
            registry, with a _default file. These fall back to the upstream host when vreg refuses or is down; where a pull policy must
            hold, <code>vreg mirror-config containerd --no-fallback</code> makes vreg the only source:
          </p>
          <pre aria-label="containerd hosts.toml">{files}</pre>
          <CopyButton text={files} label="Copy hosts.toml files" />
        </div>
      ) : null}
    </section>
  );
}
