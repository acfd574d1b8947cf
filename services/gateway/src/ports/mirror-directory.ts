/** Which virtual registry mirrors an upstream host: where a pull at the root path goes. */
export interface MirrorDirectory {
  /**
   * The id of the registry mirroring `host` (normalised: `docker.io`, `ghcr.io`), or undefined when none does.
   * @throws CATALOG_UNAVAILABLE when the catalog cannot answer and nothing is remembered.
   */
  registryFor(host: string): Promise<string | undefined>;
}
