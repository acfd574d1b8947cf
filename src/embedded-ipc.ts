/** Asked by an embedded worker of its primary: where the primary's private server listens (the admin API, the console). */
export const PRIMARY_SOCKET_KIND = 'embedded.primarySocket';
