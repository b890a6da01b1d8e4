/** Sidecar files of a ledger `L`: `L.lock` (writer lock), `L.idx` (seq → offset index), `L.snap/` (snapshots). */
export const lockPathOf = (ledger: string): string => `${ledger}.lock`;
export const indexPathOf = (ledger: string): string => `${ledger}.idx`;
export const snapshotDirOf = (ledger: string): string => `${ledger}.snap`;
