// The Serverless Framework loads `${file(...)}` sources with require(); this hands it
// variables.ts through tsx (a dev dependency, present wherever `sls package` runs).
const { tsImport } = require("tsx/esm/api");

module.exports = async ({ resolveVariable }) => {
  const { serverlessVariables } = await tsImport("./variables.ts", __filename);
  return serverlessVariables(resolveVariable);
};
