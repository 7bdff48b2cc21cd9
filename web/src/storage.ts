// What the page keeps in the browser between loads, with every key name in one place: the sign-in
// token for this tab, and each user's last-read seq per room, so unread counts survive a reload.

/** In sessionStorage: it goes with the tab, so two tabs can be two users. */
const TOKEN_KEY = 'porthouse.token';
/** In localStorage: the guided tour is offered once per browser, until it is closed or finished. */
const TOUR_KEY = 'porthouse.tour';
/** In localStorage, one entry per user: people who share a browser keep their own marks. */
const readKey = (user: string) => `porthouse.read.${user}`;

export const savedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export const tourSeen = (): boolean => localStorage.getItem(TOUR_KEY) === 'seen';

export function markTourSeen(): void {
  localStorage.setItem(TOUR_KEY, 'seen');
}

/** Room → the last seq `user` has seen there. */
export type ReadMarks = Record<string, number>;

/** A missing or unreadable entry counts as nothing read. */
export function readMarks(user: string): ReadMarks {
  try {
    return JSON.parse(localStorage.getItem(readKey(user)) ?? '{}') as ReadMarks;
  } catch {
    return {};
  }
}

export function saveReadMarks(user: string, marks: ReadMarks): void {
  localStorage.setItem(readKey(user), JSON.stringify(marks));
}
