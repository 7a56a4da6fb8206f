/**
 * A small CloudFormation evaluator for tests: given parameter values, which conditions hold,
 * which resources deploy and with what properties (intrinsic functions resolved), and which
 * `Rules` assertions fail. It covers the functions template.yaml uses, and throws on any other,
 * so a template change it can't follow fails loudly rather than passing.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
 */
export interface Template {
  Parameters: Record<string, { Type: string; Default?: unknown }>;
  Rules?: Record<
    string,
    { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription: string }[] }
  >;
  Conditions: Record<string, unknown>;
  Resources: Record<
    string,
    {
      Type: string;
      Condition?: string;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
      Properties: Record<string, unknown>;
    }
  >;
  Outputs?: Record<string, { Value: unknown }>;
}

const NO_VALUE = Symbol("AWS::NoValue");

export interface Deployment {
  template: Template;
  /** Parameter values after defaults; list parameters as arrays. */
  parameters: Record<string, unknown>;
  condition(name: string): boolean;
  /** Resolves intrinsic functions; resources referenced appear as `<Name>` / `<Name.Attr>`. */
  resolve(node: unknown): unknown;
  /** The resources that deploy, properties resolved. */
  resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  /** The descriptions of the assertions that refuse this parameter set. */
  ruleFailures: string[];
}

export const deploy = (
  template: Template,
  given: Record<string, string> = {},
  stackName = "sensor-windows",
): Deployment => {
  const parameters: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(template.Parameters)) {
    const raw = name in given ? given[name] : p.Default;
    if (raw === undefined) throw new Error(`parameter ${name} has no value and no default`);
    parameters[name] = p.Type === "CommaDelimitedList" ? String(raw).split(",") : raw;
  }
  for (const name of Object.keys(given)) {
    if (!(name in template.Parameters)) throw new Error(`template has no parameter ${name}`);
  }
  const pseudo: Record<string, string> = {
    "AWS::StackName": stackName,
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
  };
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions[name];
    if (definition === undefined) throw new Error(`no condition ${name}`);
    const value = resolve(definition);
    if (typeof value !== "boolean") throw new Error(`condition ${name} is not a boolean`);
    conditions.set(name, value);
    return value;
  };
  const variable = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    if (name in parameters) return parameters[name];
    if (name.includes(".")) return `<${name}>`;
    if (name in template.Resources) return `<${name}>`;
    throw new Error(`unknown reference ${name}`);
  };
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve).filter((v) => v !== NO_VALUE);
    if (typeof node !== "object" || node === null) return node;
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (
      entries.length === 1 &&
      key !== undefined &&
      (key === "Ref" || key.startsWith("Fn::") || key === "Condition")
    ) {
      const args = arg as unknown[];
      switch (key) {
        case "Ref":
          return arg === "AWS::NoValue" ? NO_VALUE : variable(arg as string);
        case "Condition":
          return condition(arg as string);
        case "Fn::If":
          return resolve(condition(args[0] as string) ? args[1] : args[2]);
        case "Fn::Equals": {
          // CloudFormation compares strings: a Number parameter 0 equals "0".
          const text = (v: unknown) => JSON.stringify(typeof v === "number" ? String(v) : v);
          return text(resolve(args[0])) === text(resolve(args[1]));
        }
        case "Fn::Not":
          return !resolve(args[0]);
        case "Fn::And":
          return args.every((a) => resolve(a) === true);
        case "Fn::Or":
          return args.some((a) => resolve(a) === true);
        case "Fn::Contains":
          return (resolve(args[0]) as unknown[]).includes(resolve(args[1]));
        case "Fn::EachMemberEquals":
          return (resolve(args[0]) as unknown[]).every((m) => m === resolve(args[1]));
        case "Fn::Join":
          return (resolve(args[1]) as unknown[]).join(args[0] as string);
        case "Fn::Split":
          return String(resolve(args[1])).split(args[0] as string);
        case "Fn::Select": {
          const list = resolve(args[1]) as unknown[];
          const i = Number(resolve(args[0]));
          if (i >= list.length)
            throw new Error(`Fn::Select index ${i} past a list of ${list.length}`);
          return list[i];
        }
        case "Fn::GetAtt":
          return `<${args.join(".")}>`;
        case "Fn::Sub": {
          const [text, vars] =
            typeof arg === "string" ? [arg, {}] : (arg as [string, Record<string, unknown>]);
          const values = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v)]));
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
            String(name in values ? values[name] : variable(name)),
          );
        }
        default:
          throw new Error(`the test evaluator does not know ${key}`);
      }
    }
    return Object.fromEntries(
      entries.map(([k, v]) => [k, resolve(v)] as const).filter(([, v]) => v !== NO_VALUE),
    );
  };
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Condition === undefined || condition(r.Condition))
      .map(([name, r]) => [
        name,
        { Type: r.Type, Properties: resolve(r.Properties) as Record<string, unknown> },
      ]),
  );
  const ruleFailures = Object.values(template.Rules ?? {})
    .filter((rule) => rule.RuleCondition === undefined || resolve(rule.RuleCondition) === true)
    .flatMap((rule) => rule.Assertions.filter((a) => resolve(a.Assert) !== true))
    .map((a) => a.AssertDescription);
  return { template, parameters, condition, resolve, resources, ruleFailures };
};
