// What the kubelet makes of a container spec: the environment (values,
// downward-API fields) and the arguments with $(VAR) references expanded, per
// https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
// One difference on purpose: Kubernetes leaves a reference to an undefined
// variable as written, which would start raftseq with a literal "$(POD_NAME)";
// here it is an error.
import type { IContainer } from 'kubernetes-models/v1/Container';

/** The facts about one pod that the downward API can hand to its containers. */
export interface PodFacts {
  name: string;
  namespace: string;
  ip: string;
}

/** Expands $(VAR) from `vars`; `$$` stands for a literal `$`. */
export function expandVars(text: string, vars: ReadonlyMap<string, string>, where: string): string {
  return text.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (_whole, name: string | undefined) => {
      if (name === undefined) return '$';
      const value = vars.get(name);
      if (value === undefined)
        throw new Error(`${where}: $(${name}) is not defined before it is used`);
      return value;
    },
  );
}

function fieldValue(path: string, pod: PodFacts): string {
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'status.podIP':
      return pod.ip;
    default:
      throw new Error(`downward API field ${path} is not supported by this test`);
  }
}

/** The container's environment, in order: each value may use the ones before it. */
export function containerEnv(c: IContainer, pod: PodFacts): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of c.env ?? []) {
    const where = `container ${c.name}: env ${e.name}`;
    if (e.value !== undefined) env.set(e.name, expandVars(e.value, env, where));
    else if (e.valueFrom?.fieldRef !== undefined) {
      env.set(e.name, fieldValue(e.valueFrom.fieldRef.fieldPath, pod));
    } else throw new Error(`${where}: only value and fieldRef are supported by this test`);
  }
  if (c.envFrom !== undefined) throw new Error(`container ${c.name}: envFrom is not supported`);
  return env;
}

/** The container's arguments as the process receives them. */
export function containerArgs(c: IContainer, env: ReadonlyMap<string, string>): string[] {
  if (c.command !== undefined) throw new Error(`container ${c.name}: command overrides the image`);
  return (c.args ?? []).map((a, i) => expandVars(a, env, `container ${c.name}: args[${i}]`));
}
