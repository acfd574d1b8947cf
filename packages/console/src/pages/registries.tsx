import { type FormEvent, useState } from 'react';
import type { Registry } from '../api.ts';
import { Pager } from '../components/pager.tsx';
import { RegistryFields, type Visibility } from '../components/registry-fields.tsx';
import { ErrorMessage, useAction, useLoad } from '../components/status.tsx';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.ts';

/** Every virtual registry, and a form to create one. */
export function RegistriesPage() {
  const { api, canWrite, session } = useSession();
  // Creating a registry concerns every registry: a token restricted to some may not (the API answers 403).
  const restrictedTo = session.registry_ids;
  const [page, setPage] = useState(1);
  const { data: listed, error, loading } = useLoad(() => api.list<Registry>(`/registries?page=${page}&per_page=50`), [api, page]);
  const data = listed?.items;
  const create = useAction();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('private');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const made = await create.run(() =>
      api.call<Registry>('POST', '/registries', { name, visibility, ...(description ? { description } : {}) }),
    );
    if (made) navigate(`/registries/${made.id}`);
  };
  return (
    <section aria-labelledby="registries-title">
      <h1 id="registries-title">Registries</h1>
      <ErrorMessage error={error} />
      {data ? (
        data.length === 0 ? (
          <p>No registries yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Visibility</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {data.map((r) => (
                <tr key={r.id}>
                  <td>{r.id}</td>
                  <td>
                    <Link to={`/registries/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>{r.visibility}</td>
                  <td>{r.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : loading ? (
        <p role="status">Loading…</p>
      ) : null}
      <Pager label="Registries" listed={listed} onPage={setPage} />
      {canWrite && restrictedTo !== undefined ? (
        <p className="notice" role="note">
          This token is restricted to registries {restrictedTo.join(', ')}: it administers those, and creating a registry needs a token that
          is not restricted.
        </p>
      ) : null}
      {canWrite && restrictedTo === undefined ? (
        <form onSubmit={(e) => void submit(e)} aria-labelledby="create-registry" className="card">
          <h2 id="create-registry">Create a registry</h2>
          <RegistryFields
            name={name}
            description={description}
            visibility={visibility}
            onName={setName}
            onDescription={setDescription}
            onVisibility={setVisibility}
          />
          <button type="submit" disabled={create.busy}>
            Create registry
          </button>
          <ErrorMessage error={create.error} />
        </form>
      ) : null}
    </section>
  );
}
