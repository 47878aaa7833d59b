// What a Framer code component imports from 'framer', for building demo/framer/VoiceAgent.tsx
// outside Framer: the property controls are kept on the component for the test to read.
export const ControlType = { String: 'string', Enum: 'enum', Color: 'color', Boolean: 'boolean', Number: 'number' } as const;

export function addPropertyControls(component: object, controls: Record<string, { type: string; title?: string }>): void {
  (component as { propertyControls?: unknown }).propertyControls = controls;
}
