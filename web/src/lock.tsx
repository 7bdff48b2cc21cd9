// A padlock drawn in SVG (no emoji font needed) marking private rooms; screen readers hear "private".
export function Lock() {
  return (
    <>
      <svg class="lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
        <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" fill="currentColor" />
      </svg>
      <span class="visually-hidden">private: </span>
    </>
  );
}
