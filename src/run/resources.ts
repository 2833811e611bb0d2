// What a run opened, closed once each, in reverse order, whatever happened (the way fastify
// runs its onClose hooks): the caller adds each resource right after it opened it.

export interface Closable {
  close(): void | Promise<void>;
}

export class Resources {
  private readonly open: Array<{ name: string; resource: Closable }> = [];

  constructor(private readonly onCloseError: (message: string) => void) {}

  /** Registers `resource` to be closed; returns it. */
  add<T extends Closable>(name: string, resource: T): T {
    this.open.push({ name, resource });
    return resource;
  }

  /** Closes `resource` now (and not again later). */
  async close(resource: Closable): Promise<void> {
    const i = this.open.findIndex((r) => r.resource === resource);
    if (i < 0) return;
    const [entry] = this.open.splice(i, 1);
    await this.closeOne(entry!);
  }

  /** Closes everything still open, newest first; a failing close is reported, the rest still close. */
  async closeAll(): Promise<void> {
    for (let entry = this.open.pop(); entry; entry = this.open.pop()) await this.closeOne(entry);
  }

  private async closeOne(entry: { name: string; resource: Closable }): Promise<void> {
    try {
      await entry.resource.close();
    } catch (error) {
      this.onCloseError(`closing ${entry.name} failed: ${(error as Error).message}`);
    }
  }
}
