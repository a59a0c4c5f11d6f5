import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Public-domain closing quotes; `quote_history` keeps them from repeating for one user. */
@Entity('bottom_quote')
export class BottomQuote {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { unique: true }) text: string;
  @Column('text') author: string;
  @Column('boolean', { default: true }) active: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('quote_history')
export class QuoteHistory {
  @PrimaryColumn('uuid', { name: 'user_id' }) userId: string;
  @PrimaryColumn('uuid', { name: 'quote_id' }) quoteId: string;
  @Column('timestamptz', { name: 'used_at', default: () => 'now()' }) usedAt: Date;
}
