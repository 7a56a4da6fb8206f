import { kafkaFunction, Setting } from "../function-declaration.ts";
import { trigger } from "./trigger.ts";

/**
 * `alert-on-threshold`, as the harness runs it and the template deploys it: readings above a
 * threshold in, one alert each out. Its role may read `raw-temperature` as its group and write
 * the alert topic, nothing else.
 */
export const declaration = kafkaFunction({
  name: "alert-on-threshold",
  description: "Readings above AlertThreshold in, one alert each out",
  trigger,
  settings: {
    alertTopic: Setting.topic({
      env: "ALERT_TOPIC",
      parameter: "AlertTopic",
      default: "alerts",
      description: "Alerts: one per reading above AlertThreshold",
    }),
    threshold: Setting.number({
      env: "ALERT_THRESHOLD",
      parameter: "AlertThreshold",
      default: 30,
      description: "A reading above this value (the readings' unit) raises an alert",
    }),
  },
  outputTopics: ["alertTopic"],
});
