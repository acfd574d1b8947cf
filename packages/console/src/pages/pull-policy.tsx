import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, type KeylessTrust, type PolicyRule, type PullPolicy, type SignatureMode } from '../api.ts';
import { ConfirmButton, ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { useDraft } from '../components/use-draft.ts';
import { formatTime } from '../format.ts';
import { useSession } from '../session.ts';
import { PolicyDenialsTable } from './policy-denials.tsx';

type Draft = {
  default_action: 'allow' | 'deny';
  rules: PolicyRule[];
  signatures: {
    mode: SignatureMode;
    keys: Array<{ name: string; pem: string }>;
    scopes: Array<{ image: string; mode: SignatureMode }>;
    keyless: KeylessTrust | null;
  };
};

const EMPTY: Draft = { default_action: 'allow', rules: [], signatures: { mode: 'off', keys: [], scopes: [], keyless: null } };
const MODES: Array<{ mode: SignatureMode; label: string }> = [
  { mode: 'off', label: 'Off: no signature is checked' },
  { mode: 'audit', label: 'Audit: serve, and record what would be refused' },
  { mode: 'enforce', label: 'Enforce: serve only what a trusted key signed' },
];
const list = (text: string): string[] | undefined => {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
};

function draftOf(policy: PullPolicy | null | undefined): Draft {
  if (!policy) return structuredClone(EMPTY);
  return {
    default_action: policy.default_action,
    rules: policy.rules.map((r) => ({ ...r })),
    signatures: {
      mode: policy.signatures.mode,
      keys: policy.signatures.keys.map((k) => ({ name: k.name, pem: k.pem })),
      scopes: policy.signatures.scopes.map((s) => ({ ...s })),
      keyless: policy.signatures.keyless ?? null,
    },
  };
}

/**
 * A registry's pull policy: the ordered rules (the first that matches
 * decides), the default action, signature verification and its trusted
 * keys; edited as a draft and saved whole, so every gateway gets one
 * consistent policy. Below, the registry's refused pulls.
 */
export function PullPolicySection({ registryId }: { registryId: string }) {
  const { api, canWrite } = useSession();
  const { data, error, reload } = useLoad(async () => {
    try {
      return await api.get<PullPolicy>(`/registries/${registryId}/pull_policy`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.message === 'registry has no pull policy') return null;
      throw err;
    }
  }, [api, registryId]);
  // The reload after a save must not take back an edit made before it answers.
  const { draft, edit: change, sending } = useDraft(data, draftOf);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const edit = (apply: (d: Draft) => void) => {
    setSaved(false);
    change((current) => {
      const next = structuredClone(current);
      apply(next);
      return next;
    });
  };
  const submit = async () => {
    setSaved(false);
    const accept = sending();
    const stored = await save.run(() => api.call<PullPolicy>('PUT', `/registries/${registryId}/pull_policy`, draft));
    if (stored) {
      // "Saved" only when the page shows what was stored: not when it was edited meanwhile.
      setSaved(accept(stored));
      await reload();
    }
  };
  const fingerprints = new Map(data?.signatures.keys.map((k) => [k.name, k.fingerprint]) ?? []);
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Pull policy</h2>
      <p className="help">
        Rules on image names decide, in order, whether a pull is allowed: <code>*</code> matches within one path component, <code>**</code>{' '}
        across them (<code>library/*</code>, <code>org/**</code>). A rule applies to every pull of the image, by tag or by digest, blobs
        included, unless it names tags. Signature verification checks cosign signatures by the trusted keys before a manifest is served.
      </p>
      <ErrorMessage error={error} />
      {data === null ? <p>This registry has no pull policy: every pull is allowed and no signature is checked.</p> : null}
      {data ? <p className="muted">Last changed {formatTime(data.updated_at)}.</p> : null}

      <h3>Rules</h3>
      {draft.rules.length === 0 ? <p>No rules.</p> : null}
      {draft.rules.length > 0 ? (
        <table aria-label="Rules, first match decides">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Action</th>
              <th scope="col">Images</th>
              <th scope="col">Tags</th>
              <th scope="col">Platforms (warm-ups)</th>
              <th scope="col">Name</th>
              {canWrite ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {draft.rules.map((rule, i) => (
              <tr key={`${i}-${rule.action}-${rule.image}`}>
                <td>{i + 1}</td>
                <td>{rule.action}</td>
                <td>
                  <code>{rule.image}</code>
                </td>
                <td>{rule.tags?.join(', ') ?? 'all'}</td>
                <td>{rule.platforms?.join(', ') ?? '—'}</td>
                <td>{rule.name ?? ''}</td>
                {canWrite ? (
                  <td className="actions">
                    <button
                      type="button"
                      disabled={i === 0}
                      aria-label={`Move rule ${i + 1} up`}
                      onClick={() => edit((d) => d.rules.splice(i - 1, 0, ...d.rules.splice(i, 1)))}
                    >
                      Up
                    </button>
                    <button type="button" aria-label={`Remove rule ${i + 1}`} onClick={() => edit((d) => void d.rules.splice(i, 1))}>
                      Remove
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p>
        Pulls no rule matches are <strong>{draft.default_action === 'allow' ? 'allowed' : 'refused'}</strong>.
      </p>

      <h3>Signatures</h3>
      <p>
        Mode: <strong>{draft.signatures.mode}</strong>
        {draft.signatures.scopes.map((s) => (
          <span key={s.image}>
            ; <code>{s.image}</code>: {s.mode}
          </span>
        ))}
      </p>
      {draft.signatures.keys.length === 0 ? <p>No trusted keys.</p> : null}
      {draft.signatures.keys.length > 0 ? (
        <ul aria-label="Trusted keys">
          {draft.signatures.keys.map((k) => (
            <li key={k.name}>
              {k.name} <code className="muted">{fingerprints.get(k.name)?.slice(0, 16) ?? 'not saved yet'}</code>
              {canWrite ? (
                <button
                  type="button"
                  aria-label={`Remove key ${k.name}`}
                  onClick={() => edit((d) => void (d.signatures.keys = d.signatures.keys.filter((x) => x.name !== k.name)))}
                >
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}

      <p>
        Keyless signatures:{' '}
        {draft.signatures.keyless === null ? (
          'not trusted'
        ) : (
          <>
            by {draft.signatures.keyless.identities.map((i) => `${i.subject} (${i.issuer})`).join(', ')}
            {canWrite ? (
              <button type="button" onClick={() => edit((d) => void (d.signatures.keyless = null))}>
                Stop trusting keyless signatures
              </button>
            ) : null}
          </>
        )}
      </p>

      {/* Editable once loaded: an edit to the empty draft would otherwise be saved over the stored policy. */}
      {canWrite && data !== undefined ? <PolicyEditor draft={draft} edit={edit} /> : null}
      {canWrite && data !== undefined ? (
        <div className="actions">
          <button type="button" disabled={save.busy} onClick={() => void submit()}>
            Save policy
          </button>
          {data ? (
            <ConfirmButton
              label="Delete policy"
              confirmLabel="Delete the pull policy (every pull allowed)"
              onConfirm={() =>
                void save.run(async () => {
                  const accept = sending();
                  await api.call('DELETE', `/registries/${registryId}/pull_policy`);
                  accept(null);
                  await reload();
                })
              }
            />
          ) : null}
          {saved ? <span role="status">Saved: every gateway applies it now.</span> : null}
        </div>
      ) : null}
      <ErrorMessage error={save.error} />

      <h3 className="section-gap">Refused pulls</h3>
      <PolicyDenialsTable registryId={registryId} />
    </section>
  );
}

/** The forms that change the draft: a rule, the default, the mode (whole registry or one image glob), a key. */
function PolicyEditor({ draft, edit }: { draft: Draft; edit: (change: (d: Draft) => void) => void }) {
  const [action, setAction] = useState<'allow' | 'deny'>('deny');
  const [image, setImage] = useState('');
  const [tags, setTags] = useState('');
  const [platforms, setPlatforms] = useState('');
  const [name, setName] = useState('');
  const [scope, setScope] = useState('');
  const [mode, setMode] = useState<SignatureMode>(draft.signatures.mode);
  // The stored policy arrives after the first render: show its mode, not the empty draft's.
  useEffect(() => setMode(draft.signatures.mode), [draft.signatures.mode]);
  const [keyName, setKeyName] = useState('');
  const [pem, setPem] = useState('');
  const [trustedRoot, setTrustedRoot] = useState('');
  const [subject, setSubject] = useState('');
  const [issuer, setIssuer] = useState('');
  const addRule = (event: FormEvent) => {
    event.preventDefault();
    const t = list(tags);
    const p = list(platforms);
    edit((d) =>
      d.rules.push({
        action,
        image: image.trim(),
        ...(t ? { tags: t } : {}),
        ...(p ? { platforms: p } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
      }),
    );
    setImage('');
    setTags('');
    setPlatforms('');
    setName('');
  };
  const setSignatureMode = (event: FormEvent) => {
    event.preventDefault();
    edit((d) => {
      if (scope.trim() === '') d.signatures.mode = mode;
      else {
        const existing = d.signatures.scopes.find((s) => s.image === scope.trim());
        if (existing) existing.mode = mode;
        else d.signatures.scopes.push({ image: scope.trim(), mode });
      }
    });
  };
  const addKey = (event: FormEvent) => {
    event.preventDefault();
    edit((d) => d.signatures.keys.push({ name: keyName.trim(), pem }));
    setKeyName('');
    setPem('');
  };
  const trustKeyless = (event: FormEvent) => {
    event.preventDefault();
    edit((d) => {
      const identity = { subject: subject.trim(), issuer: issuer.trim() };
      const current = d.signatures.keyless;
      d.signatures.keyless =
        current !== null && trustedRoot.trim() === ''
          ? { ...current, identities: [...current.identities, identity] }
          : { trusted_root: trustedRoot.trim(), identities: [identity] };
    });
    setTrustedRoot('');
    setSubject('');
    setIssuer('');
  };
  return (
    <div className="columns">
      <form onSubmit={addRule} className="card" aria-label="Add a rule">
        <label>
          Action
          <select value={action} onChange={(e) => setAction(e.target.value as 'allow' | 'deny')}>
            <option value="deny">deny</option>
            <option value="allow">allow</option>
          </select>
        </label>
        <label>
          Images (glob)
          <input value={image} onChange={(e) => setImage(e.target.value)} placeholder="secret/*" required />
        </label>
        <label>
          Only these tags (comma-separated globs, optional)
          <input value={tags} onChange={(e) => setTags(e.target.value)} placeholder="latest" />
        </label>
        <label>
          Only these platforms, for warm-ups (optional)
          <input value={platforms} onChange={(e) => setPlatforms(e.target.value)} placeholder="linux/arm64" />
        </label>
        <label>
          Name (optional)
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} />
        </label>
        <button type="submit">Add rule</button>
        <label>
          Pulls no rule matches
          <select value={draft.default_action} onChange={(e) => edit((d) => void (d.default_action = e.target.value as 'allow' | 'deny'))}>
            <option value="allow">allowed</option>
            <option value="deny">refused</option>
          </select>
        </label>
      </form>
      <form onSubmit={setSignatureMode} className="card" aria-label="Signature mode">
        <label>
          Signature verification
          <select value={mode} onChange={(e) => setMode(e.target.value as SignatureMode)}>
            {MODES.map((m) => (
              <option key={m.mode} value={m.mode}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          For images (glob; empty: the whole registry)
          <input value={scope} onChange={(e) => setScope(e.target.value)} placeholder="prod/**" />
        </label>
        <button type="submit">Set mode</button>
      </form>
      <form onSubmit={addKey} className="card" aria-label="Add a trusted key">
        <label>
          Key name
          <input value={keyName} onChange={(e) => setKeyName(e.target.value)} required maxLength={64} />
        </label>
        <label>
          Public key (PEM, as cosign.pub; ECDSA or RSA)
          <textarea value={pem} onChange={(e) => setPem(e.target.value)} rows={5} required placeholder="-----BEGIN PUBLIC KEY-----" />
        </label>
        <button type="submit">Add key</button>
      </form>
      <form onSubmit={trustKeyless} className="card" aria-label="Trust keyless signatures">
        <label>
          Trusted root (trusted_root.json{draft.signatures.keyless ? '; empty: keep the current one' : ''})
          <textarea
            value={trustedRoot}
            onChange={(e) => setTrustedRoot(e.target.value)}
            rows={4}
            required={draft.signatures.keyless === null}
            placeholder='{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", …}'
          />
        </label>
        <label>
          Signer (certificate SAN; * matches anything)
          <input value={subject} onChange={(e) => setSubject(e.target.value)} required placeholder="*@example.com" />
        </label>
        <label>
          OIDC issuer
          <input value={issuer} onChange={(e) => setIssuer(e.target.value)} required placeholder="https://accounts.example.com" />
        </label>
        <button type="submit">Trust this signer</button>
      </form>
    </div>
  );
}
