export { generateDemoEvents, describeDemo, DEFAULT_DEMO_LEADS, type DemoOptions, type DemoEstimate } from './generate.js';
export { DEMO_FUNNEL_TARGETS } from './funnel.js';
export { generateDemoSpend, type DemoSpendOptions } from './spend.js';
export { DEMO_OPPORTUNITY_STAGES, demoConfig } from './config.js';
