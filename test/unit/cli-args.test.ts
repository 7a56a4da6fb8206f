import { describe, expect, it } from "vitest";
import { numberFlag, parseArgsOrUsageError } from "../../lib/cli-args.ts";
import { ConfigError } from "../../lib/errors.ts";

describe("numberFlag: a bad value names the flag, the rule and the value", () => {
  it.each([
    ["absent", undefined, 7],
    ["in range", "3", 3],
    ["a fraction, where fractions are fine", "0.5", 0.5],
  ])("takes %s", (_name, raw, expected) => {
    expect(numberFlag("rate", raw, 7, 0, 10)).toBe(expected);
  });

  it.each([
    ["not a number", "abc", {}, 'got "abc"'],
    ["empty", "", {}, 'got ""'],
    ["below the range", "-1", {}, "a number 0..10"],
    ["above the range", "11", {}, "a number 0..10"],
    ["a fraction where a whole number is wanted", "1.5", { integer: true }, "a whole number 0..10"],
  ])("refuses %s", (_name, raw, options, message) => {
    const read = () => numberFlag("count", raw, 7, 0, 10, options);
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`--count must be`);
    expect(read).toThrow(message);
  });
});

describe("parseArgsOrUsageError: parseArgs' refusals are usage errors pointing at --help", () => {
  const options = { topic: { type: "string" } } as const;
  it.each([
    ["an unknown flag", ["--bogus"], "Unknown option '--bogus'"],
    ["a flag without its value", ["--topic"], "argument missing"],
    ["a stray argument", ["extra"], "Unexpected argument 'extra'"],
  ])("refuses %s", (_name, args, message) => {
    const parse = () => parseArgsOrUsageError({ args, options });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
    expect(parse).toThrow("--help lists the options");
  });

  it("parses good flags as parseArgs does", () => {
    expect(parseArgsOrUsageError({ args: ["--topic", "t"], options }).values).toEqual({
      topic: "t",
    });
  });
});
