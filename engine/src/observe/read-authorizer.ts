import type { Identity } from './authenticator.js';

/** The subset of a SubjectAccessReview client-node's AuthorizationV1Api answers. */
export type AccessReview = (req: {
  user: string;
  groups: string[];
  namespace: string;
  verb: string;
  resource: string;
}) => Promise<boolean>;

/**
 * Who may read health data (GET /api/v1/health): whoever RBAC allows to `get pods` in that
 * namespace (all namespaces when none is given), decided by a SubjectAccessReview. Health
 * data says as much about a workload as its pods' status does, so it follows the same rule,
 * and operators grant it with the RBAC they already use. Answers are cached briefly.
 */
export class ReadAuthorizer {
  private readonly cache = new Map<string, { allowed: boolean; expires: number }>();

  constructor(
    private readonly review: AccessReview,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async canRead(who: Identity, namespace: string | undefined): Promise<boolean> {
    const ns = namespace ?? '';
    const key = `${who.username}\n${who.groups.join(',')}\n${ns}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.allowed;
    const allowed = await this.review({
      user: who.username,
      groups: who.groups,
      namespace: ns,
      verb: 'get',
      resource: 'pods',
    }).catch(() => false);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, { allowed, expires: this.now() + this.ttlMs });
    return allowed;
  }
}
