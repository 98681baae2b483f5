// connectors/specs.ts lists the built-in connectors' specs without their
// code (for the compiler and the language server); it must list exactly the
// specs of the environment registry.ts builds.
import test from 'ava';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { builtinConnectorSpecs } from '../../connectors/specs.ts';
import { connectorSpecs } from '../../src/spi/environment.ts';

test('the specs without code are the specs of the built-in environment', (t) => {
  const fromEnvironment = connectorSpecs(builtinEnvironment());
  const specs = builtinConnectorSpecs();
  t.deepEqual([...specs.keys()], [...fromEnvironment.keys()]);
  for (const [name, spec] of specs) t.true(spec === fromEnvironment.get(name), name);
});
