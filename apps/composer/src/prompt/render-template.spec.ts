import { renderTemplate, templateNames } from './render-template';

describe('renderTemplate', () => {
  it('substitutes variables, numbers included, and blanks missing ones', () => {
    expect(renderTemplate('Hi {{ name }}, day {{n}}{{missing}}.', { name: 'Ada', n: 3 })).toBe('Hi Ada, day 3.');
  });

  it('renders {{#x}} blocks only when x is truthy and {{^x}} blocks otherwise', () => {
    const t = '{{#note}}Note: {{note}}.{{/note}}{{^note}}No note.{{/note}}';
    expect(renderTemplate(t, { note: 'tired' })).toBe('Note: tired.');
    expect(renderTemplate(t, { note: '' })).toBe('No note.');
    expect(renderTemplate(t, { note: '   ' })).toBe('No note.');
    expect(renderTemplate(t, {})).toBe('No note.');
    expect(renderTemplate('{{#n}}streak {{n}}{{/n}}', { n: 0 })).toBe('');
  });

  it('handles nested sections of different names', () => {
    const t = '{{#a}}A{{#b}}B{{/b}}{{/a}}';
    expect(renderTemplate(t, { a: 'x', b: 'y' })).toBe('AB');
    expect(renderTemplate(t, { a: 'x' })).toBe('A');
    expect(renderTemplate(t, { b: 'y' })).toBe('');
  });

  it('never expands placeholders that arrive inside values', () => {
    const out = renderTemplate('<n>{{note}}</n>{{#secret}}S{{/secret}}', { note: '{{secret}} {{#secret}}x{{/secret}}', secret: 'hidden' });
    expect(out).toBe('<n>{{secret}} {{#secret}}x{{/secret}}</n>S');
  });

  it('lists the names a template uses', () => {
    expect(templateNames('{{a}} {{#b}}{{c}}{{/b}}').sort()).toEqual(['a', 'b', 'c']);
  });
});
