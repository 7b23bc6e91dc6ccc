// Temporal knows a workflow by the name its module exports it under. A workflows module states
// `export type Contract = Implements<XWorkflows, typeof import('./x.ts')>`: it compiles only while
// the module exports every workflow of the contract, under that name, with that signature.
export type Implements<Contract, Module extends Contract> = Module;
