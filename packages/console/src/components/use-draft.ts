import { type SetStateAction, useCallback, useEffect, useRef, useState } from 'react';

/**
 * A form's state that starts from a loaded value and follows its reloads
 * until the user edits it. A reload that lands after an edit (the one a save
 * starts, answered late on a busy machine) never discards what was changed
 * since; an accepted save makes the draft follow the stored value again.
 */
export function useDraft<S, D>(stored: S, toDraft: (stored: S) => D) {
  const [draft, setDraft] = useState<D>(() => toDraft(stored));
  // Edits made so far, and how many of them the stored value already holds: equal means nothing unsaved.
  const edits = useRef(0);
  const synced = useRef(0);
  // Only a new stored value resets the draft; a caller's new toDraft closure does not.
  useEffect(() => {
    if (edits.current === synced.current) setDraft(toDraft(stored));
  }, [stored]);
  const edit = useCallback((next: SetStateAction<D>) => {
    edits.current += 1;
    setDraft(next);
  }, []);
  /**
   * Call as a request carrying the draft goes out. The function it returns
   * takes what the server stored once it accepted the request: it shows that
   * and follows reloads again, and answers true; unless the draft was edited
   * while the request was out: those edits stay, unsaved, and it answers false.
   */
  const sending = useCallback(() => {
    const at = edits.current;
    return (accepted: S): boolean => {
      if (edits.current !== at) return false;
      synced.current = at;
      setDraft(toDraft(accepted));
      return true;
    };
  }, [toDraft]);
  return { draft, edit, sending };
}
