/** A held request told when its identity watch aborts. `abortSlot` is its place in its signal's list (-1: in none). */
export interface AbortMember {
  abortSlot: number;
  handleEvent(): void;
}

interface Group<T> {
  members: T[];
  onAbort: () => void;
}

/**
 * One `abort` listener per signal, however many held requests wait on it. The held requests of one credential
 * share one identity watch signal (IdentityWatcher), and Node's EventTarget keeps a signal's listeners in a
 * linked list that `addEventListener` walks to the end (to refuse duplicates) and `removeEventListener` walks
 * to the listener: with 10,000 long-polls of one key, parking the last one walked 10,000 entries, and a
 * decision unparking a recent one as many again (about 1.5 ms on a loaded machine), besides a Listener
 * object of about 150 bytes each. Here a member is an array slot it knows, so joining and leaving cost O(1).
 */
export class AbortFanout<T extends AbortMember> {
  private readonly groups = new Map<AbortSignal, Group<T>>();

  /** `member.handleEvent()` is called when `signal` aborts, unless it was deleted first. */
  add(signal: AbortSignal, member: T): void {
    if (member.abortSlot !== -1) return;
    let group = this.groups.get(signal);
    if (group === undefined) {
      const created: Group<T> = {
        members: [],
        onAbort: () => {
          this.groups.delete(signal);
          // Every member is told once; each may leave (delete) as it is told.
          for (const m of created.members.slice()) {
            if (m.abortSlot === -1) continue;
            m.abortSlot = -1;
            m.handleEvent();
          }
          created.members.length = 0;
        },
      };
      group = created;
      this.groups.set(signal, group);
      signal.addEventListener('abort', group.onAbort, { once: true });
    }
    member.abortSlot = group.members.length;
    group.members.push(member);
  }

  /** `member` is no longer told (a second call, or one after the abort, does nothing). */
  delete(signal: AbortSignal, member: T): void {
    const group = this.groups.get(signal);
    if (member.abortSlot === -1 || group === undefined || group.members[member.abortSlot] !== member) return;
    // The last member takes its slot.
    const last = group.members.pop() as T;
    if (last !== member) {
      group.members[member.abortSlot] = last;
      last.abortSlot = member.abortSlot;
    }
    member.abortSlot = -1;
    if (group.members.length === 0) {
      this.groups.delete(signal);
      signal.removeEventListener('abort', group.onAbort);
    }
  }

  /** How many signals are listened to (for tests). */
  signals(): number {
    return this.groups.size;
  }
}
