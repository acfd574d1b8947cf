/** A registry's editable fields, shared by the create form and the settings form. */
export type Visibility = 'private' | 'public';

export function RegistryFields(props: {
  name: string;
  description: string;
  visibility: Visibility;
  onName: (name: string) => void;
  onDescription: (description: string) => void;
  onVisibility: (visibility: Visibility) => void;
}) {
  return (
    <>
      <label>
        Name
        <input value={props.name} onChange={(e) => props.onName(e.target.value)} required maxLength={255} />
      </label>
      <label>
        Description
        <input value={props.description} onChange={(e) => props.onDescription(e.target.value)} />
      </label>
      <label>
        Visibility
        <select value={props.visibility} onChange={(e) => props.onVisibility(e.target.value as Visibility)}>
          <option value="private">private (pulls need a token)</option>
          <option value="public">public (anyone may pull)</option>
        </select>
      </label>
    </>
  );
}
