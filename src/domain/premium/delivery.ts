import { formatRoubles, type LocalizedText } from "../text.js";

/** R28: whether an order's delivery is free, and why, in Russian and English. */
export interface DeliveryDecision {
  readonly free: boolean;
  readonly thresholdKop: number;
  readonly reason: LocalizedText;
}

/**
 * R28: a Premium subscriber's delivery is free when the order total — at the prices charged, before
 * points, since points pay for goods and not for what the order is worth — reaches the threshold;
 * exactly the threshold is free ("above 1,000 RUB" read inclusively, as R26's "orders from").
 */
export function deliveryFor(input: {
  premium: boolean;
  orderTotalKop: number;
  thresholdKop: number;
}): DeliveryDecision {
  const { premium, orderTotalKop, thresholdKop } = input;
  const threshold = formatRoubles(thresholdKop);
  if (!premium)
    return {
      free: false,
      thresholdKop,
      reason: {
        ru: `Бесплатная доставка — для подписчиков Премиум от ${threshold.ru}`,
        en: `Free delivery is for Premium subscribers, on orders from ${threshold.en}`,
      },
    };
  if (orderTotalKop < thresholdKop) {
    const missing = formatRoubles(thresholdKop - orderTotalKop);
    return {
      free: false,
      thresholdKop,
      reason: {
        ru: `До бесплатной доставки с Премиум не хватает ${missing.ru}: она от ${threshold.ru}`,
        en: `${missing.en} short of free Premium delivery, which starts at ${threshold.en}`,
      },
    };
  }
  return {
    free: true,
    thresholdKop,
    reason: {
      ru: `Доставка бесплатна с Премиум: заказ от ${threshold.ru}`,
      en: `Free delivery with Premium: the order is at least ${threshold.en}`,
    },
  };
}
