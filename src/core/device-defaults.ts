// What a simulated device sends at login when neither the scenario nor the command line names
// a model: one value for `ivtfarm run`, `ivtfarm device` and a device built directly.

export const DEFAULT_HARDWARE_MODEL = 'IVT-SIM-1';
