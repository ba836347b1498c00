import { hash32, Rng, Zipf } from "./random.js";

/**
 * The workload: a marketplace's customers, carts and order event streams, generated from a seed.
 *
 * - Customers: activity is Zipf-skewed (rank r orders with weight 1 / (r + 1)^s); ids are a fixed
 *   permutation of ranks so that busy customers are spread over the key space.
 * - Carts: 1-6 lines; each line picks a category by the R7 mix below, then a seller (Zipf) and one of
 *   that seller's products (Zipf); a product's price is a property of the product (log-normal per
 *   category), 15% of lines are on promotion (R9).
 * - Orders: 30% paid with the marketplace's card (R8), 20% spend bonus points (within the R16/R19 caps
 *   and the customer's balance as the generator tracks it), 3% cancelled (half before payment, half
 *   after), 5% partly returned after delivery. Events: placed (sequence 1), paid (2), shipped (3),
 *   delivered (4), then cancelled or returned.
 * - Stream: every order starts in its own slot; its later events come `lagOrders` slots apart (plus
 *   jitter), so the events of one order are far apart in the stream — as they are in time — and
 *   concurrent requests rarely carry two events of one order (which would park the later one).
 */

export type PaymentMethod = "marketplace_card" | "other_card" | "other";

export interface CartLine {
  lineId: string;
  sku: string;
  sellerId: string;
  category: string;
  quantity: number;
  unitPriceKop: number;
  originalUnitPriceKop?: number;
}

interface EventBase {
  eventId: string;
  orderId: string;
  customerId: string;
  sequence: number;
  occurredAt: string;
}

export type OrderEvent =
  | (EventBase & {
      type: "placed";
      lines: CartLine[];
      paymentMethod: PaymentMethod;
      spend?: { bonus: number };
    })
  | (EventBase & { type: "paid" | "shipped" | "delivered" | "cancelled" })
  | (EventBase & { type: "returned"; lines: { lineId: string; quantity: number }[] });

/** R7's categories with their share of cart lines; "other" stands for every category R7 does not list. */
export const CATEGORY_MIX = [
  ["groceries", 0.28],
  ["clothing_shoes", 0.24],
  ["electronics", 0.14],
  ["household_appliances", 0.07],
  ["books", 0.09],
  ["other", 0.18],
] as const;

type MixCategory = (typeof CATEGORY_MIX)[number][0];

/** Category codes R7 does not list: they take the default rate. */
const OTHER_CODES = ["beauty", "toys", "sports", "pet_supplies", "auto_parts"] as const;

/** Unit price per category: median in roubles and log-normal spread; units per line. */
const PRICING: Record<
  MixCategory,
  { medianRub: number; sigma: number; units: readonly (readonly [number, number])[] }
> = {
  groceries: {
    medianRub: 180,
    sigma: 0.7,
    units: [
      [1, 0.5],
      [2, 0.3],
      [3, 0.12],
      [4, 0.08],
    ],
  },
  clothing_shoes: {
    medianRub: 2200,
    sigma: 0.7,
    units: [
      [1, 0.85],
      [2, 0.15],
    ],
  },
  electronics: {
    medianRub: 3500,
    sigma: 1.2,
    units: [
      [1, 0.92],
      [2, 0.08],
    ],
  },
  household_appliances: { medianRub: 6000, sigma: 0.9, units: [[1, 1]] },
  books: {
    medianRub: 550,
    sigma: 0.5,
    units: [
      [1, 0.8],
      [2, 0.15],
      [3, 0.05],
    ],
  },
  other: {
    medianRub: 900,
    sigma: 0.9,
    units: [
      [1, 0.8],
      [2, 0.15],
      [3, 0.05],
    ],
  },
};

const LINES_PER_ORDER = [
  [1, 0.38],
  [2, 0.24],
  [3, 0.15],
  [4, 0.1],
  [5, 0.07],
  [6, 0.06],
] as const;

const PAYMENT_MIX = [
  ["marketplace_card", 0.3],
  ["other_card", 0.45],
  ["other", 0.25],
] as const;

export const SHARES = { spend: 0.2, cancelled: 0.03, returned: 0.05 } as const;

/** A large prime: rank × PRIME mod n is a permutation of 0..n-1 (n is never a multiple of it). */
const PERMUTE = 2_654_435_761;

export interface WorkloadOptions {
  seed: number;
  customers: number;
  /** Zipf exponent of customer activity. */
  zipf: number;
  sellers: number;
  productsPerSeller: number;
  /** Slots between an order's consecutive events (see the stream above). */
  lagOrders: number;
  /** How many orders the run may generate, to size the points each customer is credited with. */
  expectedOrders: number;
  /** Timestamps of the first order; later orders come 2 s apart (about 43,000 a day). */
  epoch: Date;
}

type Fate = "delivered" | "cancelled_unpaid" | "cancelled_paid" | "returned";

/** After `placed`: each event and its delay after the previous one, in minutes (from, to). */
const FLOWS: Record<
  Fate,
  readonly (readonly ["paid" | "shipped" | "delivered" | "cancelled" | "returned", number, number])[]
> = {
  cancelled_unpaid: [["cancelled", 5, 60]],
  cancelled_paid: [
    ["paid", 1, 30],
    ["cancelled", 10, 240],
  ],
  delivered: [
    ["paid", 1, 30],
    ["shipped", 12 * 60, 72 * 60],
    ["delivered", 24 * 60, 120 * 60],
  ],
  returned: [
    ["paid", 1, 30],
    ["shipped", 12 * 60, 72 * 60],
    ["delivered", 24 * 60, 120 * 60],
    ["returned", 3 * 24 * 60, 14 * 24 * 60],
  ],
};

export interface OrderPlan {
  index: number;
  orderId: string;
  customerRank: number;
  events: OrderEvent[];
  /** When each event after `placed` enters the stream, in slots. */
  slots: number[];
}

export interface WorkloadCounts {
  orders: number;
  events: number;
  lines: number;
  units: number;
  linesByCategory: Record<string, number>;
  marketplaceCard: number;
  spending: number;
  /** Orders that wanted to spend points but whose customer had none left (as the generator tracks it). */
  spendSkippedNoBalance: number;
  pointsSpent: number;
  cancelled: number;
  returned: number;
  promoLines: number;
}

/** A binary min-heap of events keyed by (slot, insertion order). */
class EventHeap {
  private readonly items: { slot: number; tie: number; event: OrderEvent }[] = [];
  private ties = 0;

  get size(): number {
    return this.items.length;
  }

  peekSlot(): number {
    return this.items[0]?.slot ?? Number.POSITIVE_INFINITY;
  }

  push(slot: number, event: OrderEvent): void {
    const items = this.items;
    items.push({ slot, tie: this.ties++, event });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const a = items[i];
      const b = items[parent];
      if (!a || !b || b.slot < a.slot || (b.slot === a.slot && b.tie < a.tie)) break;
      items[i] = b;
      items[parent] = a;
      i = parent;
    }
  }

  private less(x: number, y: number): boolean {
    const a = this.items[x];
    const b = this.items[y];
    return !!a && !!b && (a.slot < b.slot || (a.slot === b.slot && a.tie < b.tie));
  }

  pop(): OrderEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last) return undefined;
    if (items.length === 0) return top.event;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.less(l, m)) m = l;
      if (r < items.length && this.less(r, m)) m = r;
      if (m === i) break;
      const a = items[i];
      const b = items[m];
      if (!a || !b) break;
      items[i] = b;
      items[m] = a;
      i = m;
    }
    return top.event;
  }
}

export class Workload {
  readonly customerActivity: Zipf;
  private readonly sellerActivity: Zipf;
  private readonly productPopularity: Zipf;
  /** Points each customer still has as far as the generator knows (credits minus spends). */
  private readonly balance: Float64Array;
  private readonly heap = new EventHeap();
  private nextOrder = 0;
  /** Added to every order planned from now on (placeFrom): later orders are placed later. */
  private shiftMs = 0;
  readonly counts: WorkloadCounts = {
    orders: 0,
    events: 0,
    lines: 0,
    units: 0,
    linesByCategory: Object.fromEntries(CATEGORY_MIX.map(([c]) => [c, 0])),
    marketplaceCard: 0,
    spending: 0,
    spendSkippedNoBalance: 0,
    pointsSpent: 0,
    cancelled: 0,
    returned: 0,
    promoLines: 0,
  };

  constructor(readonly options: WorkloadOptions) {
    this.customerActivity = new Zipf(options.customers, options.zipf);
    this.sellerActivity = new Zipf(options.sellers, 1.0);
    this.productPopularity = new Zipf(options.productsPerSeller, 0.8);
    this.balance = new Float64Array(options.customers);
    for (let r = 0; r < options.customers; r++) this.balance[r] = this.initialCredit(r);
  }

  /**
   * Orders not planned yet are placed from `at` on (2 s apart as before): a phase that needs its
   * orders placed after something it did (R26: campaigns published now are in force for orders
   * placed from now on) starts its stream there. Orders already planned keep their times.
   */
  placeFrom(at: Date): void {
    this.shiftMs = Math.max(
      this.shiftMs,
      at.getTime() - this.options.epoch.getTime() - this.nextOrder * 2000,
    );
  }

  customerId(rank: number): string {
    const n = this.options.customers;
    return `cu-${String((rank * PERMUTE) % n).padStart(7, "0")}`;
  }

  /**
   * The bonus points a customer is credited with before the run: a floor plus what its share of the
   * expected spending orders needs, so busy customers rarely run dry.
   */
  initialCredit(rank: number): number {
    const expectedSpends = this.customerActivity.weight(rank) * this.options.expectedOrders * SHARES.spend;
    const rng = new Rng(hash32(this.options.seed, 0x5eed, rank));
    return 500 + rng.int(0, 3000) + Math.ceil(expectedSpends * 900);
  }

  /** A customer drawn by activity (the busy ones more often). */
  activeCustomer(rng: Rng): { rank: number; customerId: string } {
    const rank = this.customerActivity.sample(rng);
    return { rank, customerId: this.customerId(rank) };
  }

  /** A customer with at least `points` left, drawn by activity (undefined if 50 draws find none). */
  customerWithPoints(rng: Rng, points: number): { rank: number; customerId: string } | undefined {
    for (let i = 0; i < 50; i++) {
      const c = this.activeCustomer(rng);
      if ((this.balance[c.rank] ?? 0) >= points) return c;
    }
    return undefined;
  }

  /** R11: fixed points per unit on the most popular products of the busiest sellers. */
  sellerProductPoints(): { sellerId: string; sku: string; pointsPerUnit: number }[] {
    const rng = new Rng(hash32(this.options.seed, 0x5e11));
    const out: { sellerId: string; sku: string; pointsPerUnit: number }[] = [];
    for (let seller = 0; seller < Math.min(5, this.options.sellers); seller++) {
      for (const [category] of CATEGORY_MIX) {
        for (let product = 0; product < Math.min(10, this.options.productsPerSeller); product++) {
          out.push({
            sellerId: `seller-${seller}`,
            sku: this.sku(category, seller, product),
            pointsPerUnit: rng.int(1, 10) * 5,
          });
        }
      }
    }
    return out;
  }

  private sku(category: MixCategory, seller: number, product: number): string {
    return `${category}-${seller}-${product}`;
  }

  /** A cart of 1-6 lines; each product's category, price and promotion come from the product itself. */
  cart(rng: Rng): CartLine[] {
    const count = rng.weighted(LINES_PER_ORDER);
    const lines: CartLine[] = [];
    for (let i = 0; i < count; i++) {
      const mix = rng.weighted(CATEGORY_MIX);
      const seller = this.sellerActivity.sample(rng);
      const product = this.productPopularity.sample(rng);
      const productRng = new Rng(hash32(this.options.seed, seller, product, mix.length, mix.charCodeAt(0)));
      const pricing = PRICING[mix];
      const rub = Math.min(
        500_000,
        Math.max(10, Math.round(pricing.medianRub * Math.exp(pricing.sigma * productRng.normal()))),
      );
      const originalKop = rub * 100 - (productRng.chance(0.5) ? 1 : 0);
      const category =
        mix === "other" ? (OTHER_CODES[productRng.int(0, OTHER_CODES.length - 1)] ?? "beauty") : mix;
      const line: CartLine = {
        lineId: `l${i + 1}`,
        sku: this.sku(mix, seller, product),
        sellerId: `seller-${seller}`,
        category,
        quantity: rng.weighted(pricing.units),
        unitPriceKop: originalKop,
      };
      // R9: a promotional price accrues from the original one.
      if (rng.chance(0.15)) {
        line.unitPriceKop = Math.max(100, Math.round(originalKop * (1 - rng.int(10, 40) / 100)));
        line.originalUnitPriceKop = originalKop;
      }
      lines.push(line);
    }
    return lines;
  }

  paymentMethod(rng: Rng): PaymentMethod {
    return rng.weighted(PAYMENT_MIX);
  }

  /** R16, R19: the most bonus points a cart may take: 50% of the total, and 1 RUB of money per unit. */
  static bonusCap(lines: readonly CartLine[]): number {
    let total = 0;
    let units = 0;
    for (const l of lines) {
      total += l.quantity * l.unitPriceKop;
      units += l.quantity;
    }
    const half = Math.floor((total * 5000) / 10000);
    return Math.max(0, Math.min(Math.floor(half / 100), Math.floor((total - units * 100) / 100)));
  }

  /** A quote request: a fresh cart for an active customer. */
  quoteRequest(index: number) {
    const rng = new Rng(hash32(this.options.seed, 0x9007e, index));
    const { customerId } = this.activeCustomer(rng);
    return {
      customerId,
      orderId: `q-${index}`,
      lines: this.cart(rng),
      paymentMethod: this.paymentMethod(rng),
    };
  }

  /** Everything about order `index`: its customer, cart, spend, fate and events. */
  private planOrder(index: number): OrderPlan {
    const rng = new Rng(hash32(this.options.seed, 0x0de5, index));
    const { rank, customerId } = this.activeCustomer(rng);
    const orderId = `o-${index}`;
    const lines = this.cart(rng);
    const paymentMethod = this.paymentMethod(rng);
    const fateRoll = rng.next();
    const fate: Fate =
      fateRoll < SHARES.cancelled / 2
        ? "cancelled_unpaid"
        : fateRoll < SHARES.cancelled
          ? "cancelled_paid"
          : fateRoll < SHARES.cancelled + SHARES.returned
            ? "returned"
            : "delivered";
    let spend = 0;
    if (rng.chance(SHARES.spend)) {
      const wanted = Math.max(1, Math.round(300 * Math.exp(0.8 * rng.normal())));
      spend = Math.min(Workload.bonusCap(lines), this.balance[rank] ?? 0, wanted);
      if (spend < 1) {
        spend = 0;
        this.counts.spendSkippedNoBalance += 1;
      }
    }
    // Hot path: no closures here (tsx names every closure it creates, which costs more than the work).
    const L = this.options.lagOrders;
    const maxJitter = Math.max(1, Math.floor(L / 4));
    let at = this.options.epoch.getTime() + this.shiftMs + index * 2000;
    let slot = index;
    const events: OrderEvent[] = [
      {
        eventId: `${orderId}-1`,
        orderId,
        customerId,
        sequence: 1,
        occurredAt: new Date(at).toISOString(),
        type: "placed",
        lines,
        paymentMethod,
        ...(spend > 0 ? { spend: { bonus: spend } } : {}),
      },
    ];
    const slots: number[] = [slot];
    for (const [type, fromMinutes, toMinutes] of FLOWS[fate]) {
      at += rng.int(fromMinutes, toMinutes) * 60_000;
      slot += L + rng.int(0, maxJitter);
      const sequence = events.length + 1;
      const base = {
        eventId: `${orderId}-${sequence}`,
        orderId,
        customerId,
        sequence,
        occurredAt: new Date(at).toISOString(),
      };
      if (type === "returned") {
        // A partial return: some units of one line (the whole line if it has one unit).
        const line = lines[rng.int(0, lines.length - 1)] ?? (lines[0] as CartLine);
        const quantity = line.quantity > 1 ? rng.int(1, line.quantity - 1) : 1;
        events.push({ ...base, type, lines: [{ lineId: line.lineId, quantity }] });
      } else {
        events.push({ ...base, type });
      }
      slots.push(slot);
    }
    // Bookkeeping: what the stream holds, and the balance the next orders of this customer may spend.
    const c = this.counts;
    c.orders += 1;
    c.events += events.length;
    c.lines += lines.length;
    for (const l of lines) {
      c.units += l.quantity;
      const mix = l.sku.slice(0, l.sku.indexOf("-"));
      c.linesByCategory[mix] = (c.linesByCategory[mix] ?? 0) + 1;
      if (l.originalUnitPriceKop !== undefined) c.promoLines += 1;
    }
    if (paymentMethod === "marketplace_card") c.marketplaceCard += 1;
    if (spend > 0) {
      c.spending += 1;
      c.pointsSpent += spend;
      // Refunds from cancellations and returns are not added back: the tracked balance stays a floor.
      this.balance[rank] = (this.balance[rank] ?? 0) - spend;
    }
    if (fate === "cancelled_paid" || fate === "cancelled_unpaid") c.cancelled += 1;
    if (fate === "returned") c.returned += 1;
    return { index, orderId, customerRank: rank, events, slots };
  }

  /** The next event of the stream (orders are generated as the stream reaches them). */
  nextEvent(): OrderEvent {
    for (;;) {
      if (this.heap.size > 0 && this.heap.peekSlot() < this.nextOrder) {
        const event = this.heap.pop();
        if (event) return event;
      }
      const plan = this.planOrder(this.nextOrder);
      this.nextOrder += 1;
      for (let i = 0; i < plan.events.length; i++) {
        const e = plan.events[i];
        if (e) this.heap.push(plan.slots[i] ?? plan.index, e);
      }
    }
  }

  nextEvents(n: number): OrderEvent[] {
    const out: OrderEvent[] = [];
    for (let i = 0; i < n; i++) out.push(this.nextEvent());
    return out;
  }

  /** Takes `points` off a customer's tracked balance (for holds made outside orders). */
  reserve(rank: number, points: number): void {
    this.balance[rank] = (this.balance[rank] ?? 0) - points;
  }

  release(rank: number, points: number): void {
    this.balance[rank] = (this.balance[rank] ?? 0) + points;
  }
}
