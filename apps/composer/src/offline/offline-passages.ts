/**
 * Bundled passages for the offline composer (no LLM configured). Every text is in the public
 * domain: the authors died long ago and the translations named here were published before 1929
 * (Gummere 1917, Long 1862, Higginson 1865, Cotton 1685–6, the Kelloggs' 1923 translation of
 * Marie Curie's "Pierre Curie", with her Autobiographical Notes). Richard Feynman's writing is NOT
 * public domain, so the curiosity letters quote public-domain authors on curiosity instead
 * (Faraday, Darwin, Thoreau) and say so in the letter.
 *
 * `id` and `angle` become variation tags, so a subscriber does not get the same passage or angle
 * on consecutive days. `reflection` and `practice` are ours, written for this product.
 */
export interface Passage {
  /** Stable id, used as a variation tag (`passage:<id>`): never rename one. */
  id: string;
  /** What the passage is about (`angle:<angle>`); distinct within a persona's set. */
  angle: string;
  author: string;
  work: string;
  translator?: string;
  text: string;
  /** Subject line for a letter built on this passage. */
  title: string;
  reflection: string;
  practice: string;
}

export interface PersonaLibrary {
  /** persona.name in the database (seed data). */
  persona: string;
  /** Topic codes whose letters use this set when the persona is unknown (an admin renamed it). */
  topics: string[];
  tone: string;
  /** Said in the letter when the passage is not the persona's own words. */
  voiceNote?: string;
  signOff: string;
  passages: Passage[];
}

const GUMMERE = 'Richard M. Gummere';
const LONG = 'George Long';
const HIGGINSON = 'Thomas Wentworth Higginson';
const COTTON = 'Charles Cotton';
const KELLOGG = 'Charlotte and Vernon Kellogg';

export const OFFLINE_LIBRARY: PersonaLibrary[] = [
  {
    persona: 'Seneca',
    topics: ['resilience'],
    tone: 'warm',
    signOff: 'Farewell — and be well,\nYour mentor, in the company of Seneca',
    passages: [
      {
        id: 'seneca-ep1-hour', angle: 'time', author: 'Seneca', work: 'Letters to Lucilius, Letter 1', translator: GUMMERE,
        text: 'Hold every hour in your grasp. Lay hold of to-day\'s task, and you will not need to depend so much upon to-morrow\'s. While we are postponing, life speeds by. Nothing, Lucilius, is ours, except time.',
        title: 'On holding today\'s hour',
        reflection: 'Seneca is not asking for heroics. He asks you to take hold of one piece of today before it slides onto tomorrow\'s pile — and notice how much lighter tomorrow feels for it.',
        practice: 'Before noon, pick the task you have been postponing longest and give it fifteen undivided minutes — not to finish it, only to take hold of it.',
      },
      {
        id: 'seneca-ep13-fear', angle: 'fear', author: 'Seneca', work: 'Letters to Lucilius, Letter 13', translator: GUMMERE,
        text: 'There are more things, Lucilius, likely to frighten us than there are to crush us; we suffer more often in imagination than in reality.',
        title: 'On fears that never arrive',
        reflection: 'A setback we imagine is always larger than the one we meet, because the imagined one has no edges. Putting it on paper gives it edges.',
        practice: 'Write down the setback you are dreading most; underneath it, two lines: what has actually happened so far, and the first thing you would do if the worst came.',
      },
      {
        id: 'seneca-ep2-company', angle: 'steadiness', author: 'Seneca', work: 'Letters to Lucilius, Letter 2', translator: GUMMERE,
        text: 'Nothing, to my way of thinking, is a better proof of a well ordered mind than a man\'s ability to stop just where he is and pass some time in his own company.',
        title: 'On staying where you are',
        reflection: 'Recovering your footing starts with standing still long enough to feel the ground. Restlessness feels like action, but it is often the setback still talking.',
        practice: 'Spend ten minutes today with no screen and no plan — a walk, or a chair by a window — and notice how your mind settles once nothing is pulling it.',
      },
      {
        id: 'seneca-ep28-soul', angle: 'change', author: 'Seneca', work: 'Letters to Lucilius, Letter 28', translator: GUMMERE,
        text: 'Are you surprised, as if it were a novelty, that after such long travel and so many changes of scene you have not been able to shake off the gloom and heaviness of your mind? You need a change of soul rather than a change of climate.',
        title: 'On the change that travels with you',
        reflection: 'When things go wrong we look for a new place, a new job, a new start. Sometimes that is right; more often, what needs to move is the way we meet the old place.',
        practice: 'Name one thing you keep hoping a new situation will fix. Then name one small change in how you meet it that you could try today, exactly where you are.',
      },
      {
        id: 'seneca-ep101-day', angle: 'today', author: 'Seneca', work: 'Letters to Lucilius, Letter 101', translator: GUMMERE,
        text: 'Begin at once to live, and count each separate day as a separate life.',
        title: 'On one day as a whole life',
        reflection: 'A hard week does not have to be carried as one weight. Each day can be begun, lived and closed — and the closing matters as much as the beginning.',
        practice: 'Tonight, close the day on purpose: write three lines — what you did, what you learned, what you are letting go — and then call it finished.',
      },
      {
        id: 'seneca-ep16-facts', angle: 'deeds', author: 'Seneca', work: 'Letters to Lucilius, Letter 16', translator: GUMMERE,
        text: 'Philosophy is no trick to catch the public; it is not devised for show. It is a matter, not of words, but of facts.',
        title: 'On deeds rather than words',
        reflection: 'Resilience is not a mood or a motto. It shows up as small facts: the call you made anyway, the walk you took, the page you wrote after a bad morning.',
        practice: 'Choose one principle you often talk about and act on it once today, quietly, without mentioning it to anyone.',
      },
    ],
  },
  {
    persona: 'Richard Feynman',
    topics: ['curiosity'],
    tone: 'playful',
    voiceNote: 'Richard Feynman\'s own words are still under copyright, so these letters borrow from public-domain writers who shared his delight in finding things out.',
    signOff: 'Keep asking,\nYour mentor, in the spirit of Richard Feynman',
    passages: [
      {
        id: 'faraday-candle-door', angle: 'observation', author: 'Michael Faraday', work: 'The Chemical History of a Candle (1861), Lecture I',
        text: 'There is no better, there is no more open door by which you can enter into the study of natural philosophy, than by considering the physical phenomena of a candle.',
        title: 'On a candle as an open door',
        reflection: 'Faraday gave six lectures about one candle and never ran out of questions. The ordinary thing in front of you is rarely as simple as it looks — it is just familiar.',
        practice: 'Watch a candle, a kettle or a drop of water on glass for five minutes and write down three things you notice that you cannot yet explain.',
      },
      {
        id: 'faraday-candle-shine', angle: 'explaining', author: 'Michael Faraday', work: 'The Chemical History of a Candle (1861), Lecture VI',
        text: 'I can only express my wish that you may, in your generation, be fit to compare to a candle; that you may, like it, shine as lights to those about you.',
        title: 'On shining for others',
        reflection: 'Explaining something is the fastest way to find out whether you understand it. The places where your explanation wobbles are exactly where the next question lives.',
        practice: 'Explain one thing you learned recently to someone else — in a message or out loud — in under two minutes, and note where your explanation wobbled.',
      },
      {
        id: 'darwin-beetles', angle: 'collecting', author: 'Charles Darwin', work: 'Autobiography (1887)',
        text: 'One day, on tearing off some old bark, I saw two rare beetles, and seized one in each hand; then I saw a third and new kind, which I could not bear to lose, so that I popped the one which I held in my right hand into my mouth.',
        title: 'On collecting beetles',
        reflection: 'Before he had a theory, Darwin had a collection — and a great deal of fun. Curiosity often starts as the plain pleasure of gathering things and noticing how they differ.',
        practice: 'Start a tiny collection today — five leaves, five odd words, five kinds of cloud — and write down one difference between two of them that surprised you.',
      },
      {
        id: 'darwin-hypothesis', angle: 'doubt', author: 'Charles Darwin', work: 'Autobiography (1887)',
        text: 'I have steadily endeavoured to keep my mind free so as to give up any hypothesis, however much beloved (and I cannot resist forming one on every subject), as soon as facts are shown to be opposed to it.',
        title: 'On holding ideas loosely',
        reflection: 'Forming a guess on every subject is not a flaw; refusing to drop one is. The fun is in the test.',
        practice: 'Write down one belief you hold about how something works, then one quick test that could prove you wrong — and, if you can, run it today.',
      },
      {
        id: 'darwin-entangled-bank', angle: 'wonder', author: 'Charles Darwin', work: 'On the Origin of Species (1859), closing chapter',
        text: 'It is interesting to contemplate an entangled bank, clothed with many plants of many kinds, with birds singing on the bushes, with various insects flitting about, and with worms crawling through the damp earth.',
        title: 'On the entangled bank',
        reflection: 'The most famous idea in biology ends by asking us to look at a patch of weeds. Complexity is everywhere; it only asks for a few minutes of attention.',
        practice: 'Find a square metre of ground — a verge, a window box, a corner of a park — and spend ten minutes listing everything living in it.',
      },
      {
        id: 'thoreau-deliberately', angle: 'questions', author: 'Henry David Thoreau', work: 'Walden (1854)',
        text: 'I went to the woods because I wished to live deliberately, to front only the essential facts of life, and see if I could not learn what it had to teach, and not, when I came to die, discover that I had not lived.',
        title: 'On living deliberately',
        reflection: 'Thoreau\'s experiment was himself. Any routine you follow without thinking is an experiment you stopped running — and you can restart it today.',
        practice: 'Choose one ordinary thing you do every day and do it slowly once, asking at each step: why is it done this way, and what would happen if it were not?',
      },
    ],
  },
  {
    persona: 'Marcus Aurelius',
    topics: ['discipline'],
    tone: 'steady',
    signOff: 'To the work, then,\nYour mentor, in the company of Marcus Aurelius',
    passages: [
      {
        id: 'marcus-5-1-morning', angle: 'morning', author: 'Marcus Aurelius', work: 'Meditations, Book V.1', translator: LONG,
        text: 'In the morning when thou risest unwillingly, let this thought be present — I am rising to the work of a human being. Why then am I dissatisfied if I am going to do the things for which I exist and for which I was brought into the world?',
        title: 'On rising to the work',
        reflection: 'An emperor found getting out of bed hard, and wrote himself a note about it. Discipline is not the absence of reluctance; it is a reason you keep close at hand.',
        practice: 'Tomorrow morning, before you touch your phone, say out loud the first piece of work the day asks of you — then begin it.',
      },
      {
        id: 'marcus-2-5-in-hand', angle: 'attention', author: 'Marcus Aurelius', work: 'Meditations, Book II.5', translator: LONG,
        text: 'Every moment think steadily as a Roman and a man to do what thou hast in hand with perfect and simple dignity, and feeling of affection, and freedom, and justice; and to give thyself relief from all other thoughts.',
        title: 'On what is in hand',
        reflection: 'Doing one thing at a time is not only more efficient; it is a relief. The other thoughts can wait outside the door.',
        practice: 'Pick one task today and do it as if it were the only one: no second window, no half-listening — start to finish, then stop.',
      },
      {
        id: 'marcus-4-3-retreat', angle: 'retreat', author: 'Marcus Aurelius', work: 'Meditations, Book IV.3', translator: LONG,
        text: 'Men seek retreats for themselves, houses in the country, sea-shores, and mountains; and thou too art wont to desire such things very much. But this is altogether a mark of the most common sort of men, for it is in thy power whenever thou shalt choose to retire into thyself.',
        title: 'On the retreat you carry',
        reflection: 'You do not need a holiday to regain your footing. A minute of stillness, taken on purpose, is a retreat you can reach from any desk.',
        practice: 'Three times today, stop for one minute, breathe slowly, and ask: what is actually required of me right now?',
      },
      {
        id: 'marcus-8-36-whole', angle: 'next-step', author: 'Marcus Aurelius', work: 'Meditations, Book VIII.36', translator: LONG,
        text: 'Do not disturb thyself by thinking of the whole of thy life. Let not thy thoughts at once embrace all the various troubles which thou mayest expect to befall thee: but on every occasion ask thyself, What is there in this which is intolerable and past bearing?',
        title: 'On not carrying the whole road',
        reflection: 'A whole project is heavy; the next step of it rarely is. Most discipline is the skill of looking only as far as the next step.',
        practice: 'Take the biggest thing on your list and write down only its next physical step — something that fits in twenty minutes. Do that, and nothing more of it today.',
      },
      {
        id: 'marcus-10-16-be', angle: 'character', author: 'Marcus Aurelius', work: 'Meditations, Book X.16', translator: LONG,
        text: 'No longer talk at all about the kind of man that a good man ought to be, but be such.',
        title: 'On being rather than describing',
        reflection: 'Plans and resolutions are cheap and pleasant. The quality you want arrives only the way every habit does: one deliberate repetition at a time.',
        practice: 'Choose one quality you admire — patience, punctuality, care — and practise it once, deliberately, before the day is out.',
      },
      {
        id: 'marcus-6-2-weather', angle: 'consistency', author: 'Marcus Aurelius', work: 'Meditations, Book VI.2', translator: LONG,
        text: 'Let it make no difference to thee whether thou art cold or warm, if thou art doing thy duty; and whether thou art drowsy or satisfied with sleep; and whether ill-spoken of or praised.',
        title: 'On working in any weather',
        reflection: 'Mood is weather: real, changeable and not a reason. The days you practise while feeling flat are the ones that build the habit.',
        practice: 'Do today\'s practice at your usual time even if you feel flat — shorten it if you must, but do not skip it.',
      },
    ],
  },
  {
    persona: 'Michel de Montaigne',
    topics: ['writing'],
    tone: 'candid',
    signOff: 'Yours, pen in hand,\nYour mentor, in the company of Montaigne',
    passages: [
      {
        id: 'montaigne-to-the-reader', angle: 'honesty', author: 'Michel de Montaigne', work: 'Essays, "To the Reader"', translator: COTTON,
        text: 'Reader, thou hast here an honest book. … I desire therein to be viewed as I appear in mine own genuine, simple and ordinary manner, without study and artifice: for \'tis myself I paint.',
        title: 'On writing as you are',
        reflection: 'Montaigne invented the essay by refusing to sound like anyone but himself. Your ordinary voice is not a draft of a better one; it is the point.',
        practice: 'Write one honest paragraph about something that happened to you today, in your everyday voice — no polish, no audience.',
      },
      {
        id: 'montaigne-when-i-dance', angle: 'presence', author: 'Michel de Montaigne', work: 'Essays, "Of Experience"', translator: COTTON,
        text: 'When I dance, I dance; when I sleep, I sleep; and when I walk alone in a beautiful orchard, if my thoughts are some part of the time taken up with foreign occurrences, I some part of the time call them back again to my walk, to the orchard, to the sweetness of that solitude, and to myself.',
        title: 'On calling the mind back',
        reflection: 'Good writing begins with noticing, and noticing is mostly the habit of calling a wandering mind back — without scolding it.',
        practice: 'Take a ten-minute walk and afterwards write five sentences about what you actually noticed: a sound, a colour, one stray thought.',
      },
      {
        id: 'montaigne-book-made-me', angle: 'practice', author: 'Michel de Montaigne', work: 'Essays, "Of Giving the Lie"', translator: COTTON,
        text: 'I have no more made my book than my book has made me: \'tis a book consubstantial with the author, of a peculiar design, a parcel of my life.',
        title: 'On the book that makes you',
        reflection: 'Writing every day changes the writer more than the page. The pile of small essays is really a record of you learning to think.',
        practice: 'Open a notebook or a file called "Essays" and write the first 150 words of one — on any small thing you have an opinion about.',
      },
      {
        id: 'montaigne-report-him', angle: 'observation', author: 'Michel de Montaigne', work: 'Essays, "Of Repentance"', translator: COTTON,
        text: 'Others form man; I only report him: and represent a particular one, ill fashioned enough, and whom, if I had to model him anew, I should certainly make something else than what he is.',
        title: 'On reporting rather than preaching',
        reflection: 'Describing is harder and more generous than judging. A precise sentence about a real person says more than a paragraph of opinion.',
        practice: 'Describe one person you saw today in exactly three sentences, without judging them — only what you observed.',
      },
      {
        id: 'montaigne-cheerfulness', angle: 'lightness', author: 'Michel de Montaigne', work: 'Essays, "Of the Education of Children"', translator: COTTON,
        text: 'The most manifest sign of wisdom is a continual cheerfulness; her state is like that of things in the regions above the moon, always clear and serene.',
        title: 'On writing lightly',
        reflection: 'Not every page has to be profound. Lightness is a skill, and it is easier to write honestly when you are not trying to be impressive.',
        practice: 'Write a short note — to a friend or to yourself — about something that delighted you this week, and keep it light.',
      },
      {
        id: 'montaigne-back-shop', angle: 'solitude', author: 'Michel de Montaigne', work: 'Essays, "Of Solitude"', translator: COTTON,
        text: 'We must reserve a back-shop, wholly our own and entirely free, wherein to settle our true liberty, our principal solitude and retreat.',
        title: 'On the back shop',
        reflection: 'Every writer needs a room nobody else enters, even if the room is only twenty minutes long.',
        practice: 'Set aside twenty minutes today that belong to no one else, and write in them — anything, as long as it is yours.',
      },
    ],
  },
  {
    persona: 'Marie Curie',
    topics: ['persistence'],
    tone: 'quiet',
    signOff: 'Patiently,\nYour mentor, in the company of Marie Curie',
    passages: [
      {
        id: 'curie-shed', angle: 'workplace', author: 'Marie Curie', work: 'Pierre Curie (1923)', translator: KELLOGG,
        text: 'It was in this miserable old shed that we passed the best and happiest years of our life, devoting our entire days to our work.',
        title: 'On the shed and the work',
        reflection: 'The Curies did world-changing work in a leaking shed. The place rarely decides what gets done there; showing up to it does.',
        practice: 'Whatever your "shed" is — a desk, a corner, a notebook — spend thirty minutes in it today on your long project, and leave it tidy for tomorrow.',
      },
      {
        id: 'curie-iron-rod', angle: 'effort', author: 'Marie Curie', work: 'Pierre Curie (1923)', translator: KELLOGG,
        text: 'Sometimes I had to spend a whole day stirring a boiling mass with a heavy iron rod nearly as large as myself. In the evening I was broken with fatigue.',
        title: 'On stirring the boiling mass',
        reflection: 'Most of any great result is unglamorous: tons of ore, stirred one day at a time. That part counts too — it may be most of what counts.',
        practice: 'Do one repetitive, unglamorous part of your project today — the sorting, the checking, the re-reading — and count it as real progress.',
      },
      {
        id: 'curie-faint-lights', angle: 'joy', author: 'Marie Curie', work: 'Pierre Curie (1923)', translator: KELLOGG,
        text: 'One of our joys was to go into our workroom at night; we then perceived on all sides the feebly luminous silhouettes of the bottles or capsules containing our products. It was really a lovely sight and one always new to us.',
        title: 'On the faint lights',
        reflection: 'Long projects need small lights along the way. Noticing a modest result, and enjoying it, is fuel — not vanity.',
        practice: 'At the end of today\'s work, write down one small result that pleased you, however faint, and look at it again tomorrow morning.',
      },
      {
        id: 'curie-dreamers', angle: 'purpose', author: 'Marie Curie', work: 'Pierre Curie (1923), Autobiographical Notes', translator: KELLOGG,
        text: 'Humanity certainly needs practical men, who get the most out of their work, and, without forgetting the general good, safeguard their own interests. But humanity also needs dreamers, for whom the disinterested development of an enterprise is so captivating that it becomes impossible for them to devote their care to their own material profit.',
        title: 'On the need for dreamers',
        reflection: 'Persistence is easier when you remember why the work matters to you, apart from any reward it may bring.',
        practice: 'Write two sentences on why your long project matters to you, apart from any reward. Keep them where you work.',
      },
      {
        id: 'curie-not-easy', angle: 'balance', author: 'Marie Curie', work: 'Pierre Curie (1923), Autobiographical Notes', translator: KELLOGG,
        text: 'I have frequently been questioned, especially by women, as to how I could reconcile family life with a scientific career. Well, it has not been easy.',
        title: 'On work and the rest of life',
        reflection: 'Even Marie Curie did not pretend it was easy. Persistence is not finding a life without competing demands; it is fitting the work in anyway, honestly.',
        practice: 'Plan tomorrow\'s work session around one fixed part of your life, not against it — pick the time, write it down, and protect it.',
      },
      {
        id: 'curie-better-world', angle: 'improvement', author: 'Marie Curie', work: 'Pierre Curie (1923), Autobiographical Notes', translator: KELLOGG,
        text: 'You cannot hope to build a better world without improving the individuals. To that end each of us must work for his own improvement.',
        title: 'On improving a little',
        reflection: 'Large aims are reached through small personal improvements, and those are slow enough to be invisible day to day. Look back further to see them.',
        practice: 'Look back one month: write down three things you can do now on your project that you could not do then.',
      },
    ],
  },
  {
    persona: 'Epictetus',
    topics: ['focus'],
    tone: 'direct',
    signOff: 'Now, to practice,\nYour mentor, in the company of Epictetus',
    passages: [
      {
        id: 'epictetus-1-power', angle: 'control', author: 'Epictetus', work: 'Enchiridion, 1', translator: HIGGINSON,
        text: 'There are things which are within our power, and there are things which are beyond our power. Within our power are opinion, aim, desire, aversion, and, in one word, whatever affairs are our own. Beyond our power are body, property, reputation, office, and, in one word, whatever are not properly our own affairs.',
        title: 'On what is up to you',
        reflection: 'Focus is mostly a sorting problem. Attention spent on what is not yours to decide is attention taken from what is.',
        practice: 'Draw a line down a page. Left: what is on your mind today that is up to you. Right: what is not. Act on one item on the left; let the right side be.',
      },
      {
        id: 'epictetus-5-views', angle: 'judgement', author: 'Epictetus', work: 'Enchiridion, 5', translator: HIGGINSON,
        text: 'Men are disturbed not by things, but by the views which they take of things.',
        title: 'On the story you add',
        reflection: 'Distraction often arrives as a story — "this is urgent", "this is a disaster". Notice the story and the thing itself usually shrinks.',
        practice: 'The next time something irritates you today, pause and name the judgement you are adding to it ("this is unfair", "this will ruin everything"). Just name it.',
      },
      {
        id: 'epictetus-8-events', angle: 'acceptance', author: 'Epictetus', work: 'Enchiridion, 8', translator: HIGGINSON,
        text: 'Demand not that events should happen as you wish; but wish them to happen as they do happen, and you will go on well.',
        title: 'On wishing for what happens',
        reflection: 'A plan that broke still leaves you a next move. Arguing with what already happened is the most expensive kind of distraction.',
        practice: 'Pick one thing that went differently from your plan this week and ask: what does this make possible that the plan did not?',
      },
      {
        id: 'epictetus-9-impediment', angle: 'obstacles', author: 'Epictetus', work: 'Enchiridion, 9', translator: HIGGINSON,
        text: 'Sickness is an impediment to the body, but not to the will, unless itself pleases. Lameness is an impediment to the leg, but not to the will; and say this to yourself with regard to everything that happens. For you will find it to be an impediment to something else, but not truly to yourself.',
        title: 'On obstacles and the will',
        reflection: 'An interruption blocks a task, not you. You can still choose how to meet it — and what to return to when it is over.',
        practice: 'Name one obstacle in your way today and write how you would still act well inside it — slower, smaller, but still yours.',
      },
      {
        id: 'epictetus-46-act', angle: 'action', author: 'Epictetus', work: 'Enchiridion, 46', translator: HIGGINSON,
        text: 'Never call yourself a philosopher, nor talk a great deal among the unlearned about theorems, but act conformably to them.',
        title: 'On doing, not announcing',
        reflection: 'Announcing a plan gives some of the satisfaction of doing it, and takes some of the drive. Keep the plan quiet and let the work speak.',
        practice: 'Keep today\'s practice to yourself: do it without telling anyone, and notice whether it feels different.',
      },
      {
        id: 'epictetus-17-part', angle: 'role', author: 'Epictetus', work: 'Enchiridion, 17', translator: HIGGINSON,
        text: 'Remember that you are an actor in a drama of such sort as the Author chooses — if short, then in a short one; if long, then in a long one. … For this is your business, to act well the given part; but to choose it belongs to another.',
        title: 'On playing the part well',
        reflection: 'You did not pick every circumstance of today. You do pick how well you play the part it hands you.',
        practice: 'Name the role today hands you — colleague, parent, beginner — and do one thing that plays it well.',
      },
    ],
  },
];

/** The library for a persona (by name), else by topic code, else every passage. */
export function libraryFor(personaName: string, topicCode: string): PersonaLibrary {
  const byPersona = OFFLINE_LIBRARY.find((l) => l.persona.toLowerCase() === personaName.toLowerCase());
  if (byPersona) return byPersona;
  const byTopic = OFFLINE_LIBRARY.find((l) => l.topics.includes(topicCode));
  if (byTopic) return { ...byTopic, persona: personaName, voiceNote: undefined, signOff: `Warmly,\nYour mentor, in the company of ${personaName}` };
  return {
    persona: personaName,
    topics: [],
    tone: 'warm',
    signOff: `Warmly,\nYour mentor, in the company of ${personaName}`,
    passages: OFFLINE_LIBRARY.flatMap((l) => l.passages),
  };
}
