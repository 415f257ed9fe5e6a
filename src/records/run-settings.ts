/**
 * The settings a batch's calls were answered with, recorded by the worker that made them (the
 * store's `recordRunSettings`): once per (batch, configuration) in this process, so a job costs a
 * store write only the first time its batch meets this worker's configuration.
 */
import { runSettingsHash, type RunSettings } from '../store/run-settings.js';
import type { ResultStore } from '../store/types.js';

/** Distinct (batch, settings) pairs remembered before the memory starts over (a repeat write is harmless). */
const REMEMBERED = 10_000;

export class RunSettingsRecorder {
  private readonly byVendor = new Map<string, Promise<{ settings: RunSettings; hash: string }>>();
  private readonly recorded = new Set<string>();

  /**
   * @param describe - the settings this process answers a vendor's calls with (asked once per vendor).
   */
  constructor(
    private readonly store: Pick<ResultStore, 'recordRunSettings'>,
    private readonly describe: (vendor: string) => Promise<RunSettings>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records that a call of `batch` to `vendor` was answered under this process's settings. */
  async record(batch: string, vendor: string): Promise<void> {
    let known = this.byVendor.get(vendor);
    if (known === undefined) {
      known = this.describe(vendor).then((settings) => ({ settings, hash: runSettingsHash(settings) }));
      this.byVendor.set(vendor, known);
    }
    const { settings, hash } = await known;
    const key = `${batch}\n${hash}`;
    if (this.recorded.has(key)) return;
    await this.store.recordRunSettings(batch, settings, this.now().toISOString());
    if (this.recorded.size >= REMEMBERED) this.recorded.clear();
    this.recorded.add(key);
  }
}
