// What the viewer chose, kept across refreshes: the page of the pod list and its filter, and
// which <details> are open (the page is rebuilt every poll). One page, one state.
export const view = {
  page: 1,
  /** The pod filter (`namespace/pod` substring); the server filters. */
  q: '',
  /** Pages of the pod list in the last snapshot. */
  pages: 1,
  open: new Set<string>(),
};
